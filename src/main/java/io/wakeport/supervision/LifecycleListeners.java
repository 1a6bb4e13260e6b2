package io.wakeport.supervision;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is told of every instance's state change (the admin API's event stream), on the
 * supervisor's context: none may block, and one that throws does not undo the change.
 */
final class LifecycleListeners implements Consumer<LifecycleEvent> {

  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);
  private final List<Consumer<LifecycleEvent>> listeners = new CopyOnWriteArrayList<>();

  /** Adds {@code listener}; run the returned action to remove it. */
  Runnable add(Consumer<LifecycleEvent> listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public void accept(LifecycleEvent event) {
    for (Consumer<LifecycleEvent> listener : listeners) {
      try {
        listener.accept(event);
      } catch (RuntimeException e) {
        log.warn("a lifecycle listener failed; the state change stands", e);
      }
    }
  }
}
