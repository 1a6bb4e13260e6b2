package io.wakeport.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A fully substituted command line, ready to spawn: nothing in it still holds a placeholder. */
public record LaunchSpec(List<String> argv, Path workdir, Map<String, String> env) {}
