package io.wakeport.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * wakeport's command line in a JVM of its own, as an operator starts it, with stdout and stderr
 * read line by line. Its classpath is the test's minus test-classes, so the child logs through
 * the shipped logback.xml, not the tests' logback-test.xml.
 */
public final class Child implements AutoCloseable {

  public final Process process;
  private final ConcurrentLinkedQueue<String> out = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<String> err = new ConcurrentLinkedQueue<>();
  private final List<Thread> readers = new ArrayList<>();

  private Child(Process process) {
    this.process = process;
    readers.add(read(process.getInputStream(), out));
    readers.add(read(process.getErrorStream(), err));
  }

  /** {@code java -cp … io.wakeport.cli.Main args…}. */
  public static Child wakeport(String... args) {
    return wakeport(List.of(), Map.of(), args);
  }

  /**
   * As {@link #wakeport(String...)}, behind {@code launcher} (such as {@code nohup}), which gets
   * the java command line after it, with {@code env} added to the environment.
   */
  public static Child wakeport(List<String> launcher, Map<String, String> env, String... args) {
    return wakeport(launcher, List.of(), env, args);
  }

  /** As {@link #wakeport(List, Map, String...)}, with {@code jvmOptions} (such as -Xmx) before the class path. */
  public static Child wakeport(List<String> launcher, List<String> jvmOptions, Map<String, String> env, String... args) {
    String classpath = Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
        .filter(entry -> !Path.of(entry).endsWith(Path.of("target", "test-classes")))
        .collect(Collectors.joining(java.io.File.pathSeparator));
    List<String> command = new ArrayList<>(launcher);
    command.add(TestBed.JAVA);
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", classpath, "io.wakeport.cli.Main"));
    command.addAll(List.of(args));
    try {
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.environment().putAll(env);
      return new Child(builder.start());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Thread read(InputStream stream, ConcurrentLinkedQueue<String> lines) {
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
        in.lines().forEach(lines::add);
      } catch (IOException | UncheckedIOException ignored) {
        // the process ended
      }
    }, "child-output");
    reader.setDaemon(true);
    reader.start();
    return reader;
  }

  public List<String> stdout() {
    return List.copyOf(out);
  }

  public List<String> stderr() {
    return List.copyOf(err);
  }

  /** Waits until a line of stderr matches; the failure shows everything the child printed. */
  public String awaitStderr(String what, Duration timeout, Predicate<String> line) throws InterruptedException {
    try {
      TestBed.await(what, timeout, () -> err.stream().anyMatch(line));
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; the child printed:\n" + printed(), e);
    }
    return err.stream().filter(line).findFirst().orElseThrow();
  }

  /** Waits for the child to exit by itself and for its output to be read to the end. */
  public int exitCode(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("still running after " + timeout.toMillis() + " ms; it printed:\n" + printed());
    }
    for (Thread reader : readers) {
      reader.join(timeout.toMillis());
    }
    return process.exitValue();
  }

  public String printed() {
    return "stdout:\n" + String.join("\n", out) + "\nstderr:\n" + String.join("\n", err);
  }

  /** Sends {@code signal} (HUP, TERM, …) to the JVM itself. */
  public void signal(String signal) throws Exception {
    int code = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor();
    if (code != 0) {
      throw new AssertionError("kill -" + signal + " exited " + code);
    }
  }

  /** TERM, as an operator stops wakeport (it stops its backends on the way out), then KILL if need be. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    for (Thread reader : readers) {
      reader.join(5000);
    }
  }
}
