package io.wakeport.config;

/**
 * One backend instance of a tenant: the route it answers to and the port it listens on.
 * A tenant without routes has exactly one instance whose route is the empty string.
 */
public record InstanceConfig(String route, int port) {}
