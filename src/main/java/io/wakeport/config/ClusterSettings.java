package io.wakeport.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code cluster:} section: this node's name and Hazelcast address, the members it joins,
 * its node-to-node forwarding listener and the shared secret. Null in {@link WakeportConfig}
 * without the section: a single machine, no cluster code at all.
 *
 * @param node          unique name of this node
 * @param bindHost      Hazelcast member address of this node
 * @param bindPort      its port
 * @param members       every member's host:port, this one's included
 * @param forwardHost   where other nodes send the requests this node serves
 * @param forwardPort   its port
 * @param secret        authenticates forwarded requests (and names the Hazelcast cluster)
 * @param labels        this node's labels, which a tenant's {@code placement.labels} select nodes by
 * @param tls           mutual TLS between the nodes' forward listeners, or null for plain HTTP
 */
public record ClusterSettings(String node, String bindHost, int bindPort, List<String> members, String forwardHost,
    int forwardPort, String secret, Map<String, String> labels, Tls tls) {

  /** {@code cluster.tls}: this node's certificate and key (PEM), and the CA every node's certificate is signed by. */
  public record Tls(Path cert, Path key, Path ca) {}

  public ClusterSettings {
    members = List.copyOf(members);
    labels = Collections.unmodifiableMap(new TreeMap<>(labels));
  }

  public String bind() {
    return bindHost + ":" + bindPort;
  }

  public String forwardListen() {
    return forwardHost + ":" + forwardPort;
  }

  @Override
  public String toString() {
    // Never the secret.
    return "cluster node " + node + " at " + bind() + ", members " + members + ", forward-listen " + forwardListen()
        + (labels.isEmpty() ? "" : ", labels " + PlacementPolicy.describe(labels)) + (tls == null ? "" : " (mutual TLS)");
  }
}
