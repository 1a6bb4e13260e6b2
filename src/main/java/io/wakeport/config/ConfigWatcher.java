package io.wakeport.config;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the directories a config comes from and asks for a reload shortly after something in
 * them changes: editors save by writing a new file and renaming it, and a deploy may drop many
 * files at once, so changes are gathered for {@code QUIET_MILLIS} first. Runs on a thread of its
 * own (WatchService blocks).
 */
public final class ConfigWatcher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);
  private static final long QUIET_MILLIS = 250;

  private final WatchService watcher;
  private final Runnable reload;
  private final java.util.function.Predicate<Path> relevant;
  private final Set<Path> watched = new HashSet<>();
  private final Thread thread;
  private volatile boolean closed;

  /**
   * @param relevant which changed files matter: a log or state file written beside the config
   *                 must not set off a reload
   */
  public ConfigWatcher(List<Path> dirs, java.util.function.Predicate<Path> relevant, Runnable reload)
      throws IOException {
    this.watcher = FileSystems.getDefault().newWatchService();
    this.reload = reload;
    this.relevant = relevant;
    watch(dirs);
    this.thread = new Thread(this::run, "wakeport-config-watcher");
    thread.setDaemon(true);
    thread.start();
  }

  /** Also watches {@code dirs} (a reload may add include directories); never unwatches. */
  public synchronized void watch(List<Path> dirs) {
    for (Path dir : dirs) {
      if (watched.add(dir)) {
        try {
          dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
              StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException e) {
          watched.remove(dir);
          log.warn("cannot watch {} for config changes: {}", dir, e.toString());
        }
      }
    }
  }

  private void run() {
    try {
      while (!closed) {
        boolean changed = drain(watcher.take());
        // Gather the rest of a burst of changes before reloading once.
        WatchKey more;
        while ((more = watcher.poll(QUIET_MILLIS, TimeUnit.MILLISECONDS)) != null) {
          changed |= drain(more);
        }
        if (changed && !closed) {
          reload.run();
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closing
    } catch (RuntimeException e) {
      log.error("config watcher stopped", e);
    }
  }

  private boolean drain(WatchKey key) {
    boolean changed = false;
    Path dir = (Path) key.watchable();
    for (var event : key.pollEvents()) {
      if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
        changed = true; // events were lost: reload to be safe
      } else if (event.context() instanceof Path name) {
        changed |= relevant.test(dir.resolve(name));
      }
    }
    key.reset();
    return changed;
  }

  @Override
  public void close() throws IOException {
    closed = true;
    watcher.close();
    thread.interrupt();
  }
}
