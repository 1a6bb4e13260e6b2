package io.wakeport.supervision;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;

/**
 * {@code state-dir/run/<name>.pid}: pid, start time and port of each backend wakeport runs, so a
 * later wakeport can adopt them. The start time guards against a reused pid. Blocking file I/O.
 */
final class PidFiles {

  record Entry(long pid, Instant startedAt, int port, boolean groupLeader) {}

  private final Path dir;

  PidFiles(Path dir) {
    this.dir = dir;
  }

  Path file(String name) {
    return dir.resolve(name + ".pid");
  }

  void write(String name, ManagedProcess process, int port) {
    Properties props = new Properties();
    props.setProperty("pid", Long.toString(process.pid()));
    props.setProperty("started", process.startedAt().toString());
    props.setProperty("port", Integer.toString(port));
    props.setProperty("group-leader", Boolean.toString(process.groupLeader()));
    try {
      Files.createDirectories(dir);
      Path tmp = dir.resolve(name + ".pid.tmp");
      try (Writer writer = Files.newBufferedWriter(tmp)) {
        props.store(writer, "backend started by wakeport");
      }
      Files.move(tmp, file(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      // Losing the pid file only loses adoption after a restart; the backend itself is fine.
      org.slf4j.LoggerFactory.getLogger(PidFiles.class).warn("cannot write pid file {}: {}", file(name), e.toString());
    }
  }

  Optional<Entry> read(String name) {
    Path file = file(name);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    Properties props = new Properties();
    try (Reader reader = Files.newBufferedReader(file)) {
      props.load(reader);
      return Optional.of(new Entry(Long.parseLong(props.getProperty("pid")),
          Instant.parse(props.getProperty("started")), Integer.parseInt(props.getProperty("port")),
          Boolean.parseBoolean(props.getProperty("group-leader"))));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  void delete(String name) {
    try {
      Files.deleteIfExists(file(name));
    } catch (IOException ignored) {
      // a stale pid file is harmless: its start time will not match any live process
    }
  }
}
