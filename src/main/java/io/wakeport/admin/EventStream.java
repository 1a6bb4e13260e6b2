package io.wakeport.admin;

import io.vertx.core.Context;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.wakeport.supervision.LifecycleEvent;
import io.wakeport.supervision.Supervisor;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code GET /api/events}: every instance's state changes as server-sent events. The supervisor
 * hands each event to every subscriber's bounded queue and returns; the subscriber's own context
 * writes them out as fast as its client reads. A client too slow to keep up loses events
 * (counted, and told in a {@code dropped} event): it never holds up the supervisor.
 */
final class EventStream {

  static final int QUEUE = 256;

  private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
  private final Runnable unsubscribe;
  /** Events lost to slow clients since the start. */
  private final AtomicLong dropped = new AtomicLong();

  EventStream(Supervisor supervisor) {
    this.unsubscribe = supervisor.onLifecycle(this::publish);
  }

  /** On the supervisor's context: never blocks. */
  private void publish(LifecycleEvent event) {
    for (Subscriber subscriber : subscribers) {
      subscriber.offer(event);
    }
  }

  long dropped() {
    return dropped.get();
  }

  void handle(RoutingContext ctx) {
    String tenant = ctx.request().getParam("tenant");
    HttpServerResponse response = Sse.open(ctx);
    Subscriber subscriber = new Subscriber(ctx.vertx().getOrCreateContext(), response, tenant);
    subscribers.add(subscriber);
    long heartbeat = ctx.vertx().setPeriodic(Sse.HEARTBEAT_MILLIS, t -> {
      if (!response.writeQueueFull()) {
        Sse.heartbeat(response);
      }
    });
    response.closeHandler(v -> {
      subscribers.remove(subscriber);
      ctx.vertx().cancelTimer(heartbeat);
    });
  }

  void close() {
    unsubscribe.run();
    for (Subscriber subscriber : subscribers) {
      subscriber.context.runOnContext(v -> subscriber.response.end());
    }
    subscribers.clear();
  }

  static JsonObject json(LifecycleEvent e) {
    return new JsonObject().put("tenant", e.tenant()).put("route", e.route().isEmpty() ? null : e.route())
        .put("from", e.from().name()).put("to", e.to().name()).put("reason", e.reason())
        .put("pid", e.pid() < 0 ? null : e.pid()).put("port", e.port())
        .put("time", Instant.ofEpochMilli(e.timeMillis()).toString());
  }

  private final class Subscriber {
    final Context context;
    final HttpServerResponse response;
    final String tenant;
    final ArrayBlockingQueue<LifecycleEvent> queue = new ArrayBlockingQueue<>(QUEUE);
    final AtomicBoolean scheduled = new AtomicBoolean();
    final AtomicLong lost = new AtomicLong();

    Subscriber(Context context, HttpServerResponse response, String tenant) {
      this.context = context;
      this.response = response;
      this.tenant = tenant;
    }

    void offer(LifecycleEvent event) {
      if (tenant != null && !tenant.equals(event.tenant())) {
        return;
      }
      if (!queue.offer(event)) {
        lost.incrementAndGet();
        dropped.incrementAndGet();
      }
      if (scheduled.compareAndSet(false, true)) {
        context.runOnContext(v -> drain());
      }
    }

    /** On the subscriber's context: writes what the connection takes now, the rest when it drains. */
    void drain() {
      scheduled.set(false);
      if (response.closed() || response.ended()) {
        return;
      }
      long gone = lost.getAndSet(0);
      if (gone > 0) {
        Sse.send(response, "dropped", new JsonObject().put("dropped", gone).encode());
      }
      LifecycleEvent event;
      while (!response.writeQueueFull() && (event = queue.poll()) != null) {
        Sse.send(response, "lifecycle", json(event).encode());
      }
      if (!queue.isEmpty()) {
        response.drainHandler(v -> drain());
      }
    }
  }
}
