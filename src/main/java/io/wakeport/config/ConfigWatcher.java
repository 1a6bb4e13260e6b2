package io.wakeport.config;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the directories a config comes from and asks for a reload once the files that changed
 * have all been still for a quiet period: a config written in steps (a slow copy, a script that
 * appends) must not be applied while half of it is there, and a deploy that drops many files
 * reloads once. Runs on a thread of its own (WatchService blocks).
 */
public final class ConfigWatcher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);

  private final WatchService watcher;
  private final Runnable reload;
  private final Predicate<Path> relevant;
  private final Supplier<Duration> quiet;
  private final Set<Path> watched = new HashSet<>();
  private final QuietFiles changed = new QuietFiles();
  private final Thread thread;
  private volatile boolean closed;

  /**
   * @param relevant which changed files matter: a log or state file written beside the config
   *                 must not set off a reload
   * @param quiet    how long changed files must be still; asked anew each time (a reload may change it)
   */
  public ConfigWatcher(List<Path> dirs, Predicate<Path> relevant, Supplier<Duration> quiet, Runnable reload)
      throws IOException {
    this.watcher = FileSystems.getDefault().newWatchService();
    this.reload = reload;
    this.relevant = relevant;
    this.quiet = quiet;
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
        WatchKey key = changed.any()
            ? watcher.poll(changed.remaining(quiet.get().toNanos(), System.nanoTime()), TimeUnit.NANOSECONDS)
            : watcher.take();
        if (key != null) {
          drain(key);
        } else if (changed.settle(System.nanoTime()) && !closed) {
          reload.run();
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closing
    } catch (RuntimeException e) {
      log.error("config watcher stopped", e);
    }
  }

  private void drain(WatchKey key) {
    Path dir = (Path) key.watchable();
    long now = System.nanoTime();
    for (var event : key.pollEvents()) {
      if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
        changed.changed(dir, now); // events were lost: reload to be safe, once the directory is still
      } else if (event.context() instanceof Path name && relevant.test(dir.resolve(name))) {
        changed.changed(dir.resolve(name), now);
      }
    }
    key.reset();
  }

  /** Stops watching. May be called from a reload the watcher itself runs: it does not wait for the thread. */
  @Override
  public void close() throws IOException {
    closed = true;
    watcher.close();
    if (Thread.currentThread() != thread) {
      // Closed by a reload it runs, the loop ends by itself: an interrupt would only disturb that reload.
      thread.interrupt();
    }
  }
}
