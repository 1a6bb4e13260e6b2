package io.wakeport.supervision;

import io.vertx.core.net.SocketAddress;

/**
 * Where to forward a request, as handed out by the {@link Supervisor}.
 *
 * @param instance  the instance that serves it
 * @param address   its listening address
 * @param coldStart true when the request had to wait for the instance to start
 */
public record Backend(Instance instance, SocketAddress address, boolean coldStart) {}
