package io.wakeport.config;

/**
 * How backends' processes are kept together ({@code containment:}): the best the machine offers
 * (a cgroup per instance, else the process marker), cgroups only, or the process marker only.
 */
public enum ContainmentMode { AUTO, CGROUP, MARKER }
