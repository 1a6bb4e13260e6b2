package io.wakeport.config;

import java.nio.file.Path;

/**
 * An instance served by another machine ({@code address: host:port}): wakeport never starts,
 * stops or contains it, and takes it in and out of balancing by its {@link HealthCheck}.
 *
 * @param host   a host name (resolved by Vert.x's resolver, off the event loop) or an IP address
 * @param port   its port
 * @param tls    requests (and HTTP checks) go over TLS: {@code https://} or a {@code tls} key
 * @param ca     PEM file of the certificates to trust instead of the JVM's; null for the JVM's
 * @param verify false: any certificate is accepted (a lab's self-signed one), the host name unchecked
 * @param check  how it is checked; the tenant's, the same for each of its members
 */
public record RemoteMember(String host, int port, boolean tls, Path ca, boolean verify, HealthCheck check) {

  /** {@code host:port}, with an IPv6 address in brackets, and {@code https://} before it over TLS. */
  public String address() {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return (tls ? "https://" : "") + h + ":" + port;
  }
}
