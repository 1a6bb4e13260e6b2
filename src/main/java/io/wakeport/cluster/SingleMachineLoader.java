package io.wakeport.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * The context class loader a single machine builds Vert.x with: the application's, except that
 * the Vert.x service lists naming a cluster manager are hidden, so that no Hazelcast class is
 * loaded and no cluster manager made.
 */
final class SingleMachineLoader extends ClassLoader {

  private static final String PROVIDERS = "META-INF/services/io.vertx.core.spi.VertxServiceProvider";

  SingleMachineLoader(ClassLoader parent) {
    super(parent);
  }

  @Override
  public Enumeration<URL> getResources(String name) throws IOException {
    Enumeration<URL> all = super.getResources(name);
    if (!PROVIDERS.equals(name)) {
      return all;
    }
    List<URL> kept = new ArrayList<>();
    for (URL url : Collections.list(all)) {
      try (InputStream in = url.openStream()) {
        if (!new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("io.vertx.spi.cluster.")) {
          kept.add(url);
        }
      }
    }
    return Collections.enumeration(kept);
  }

  /** Runs {@code build} with this loader as the thread's context class loader. */
  static <T> T with(java.util.function.Supplier<T> build) {
    Thread thread = Thread.currentThread();
    ClassLoader before = thread.getContextClassLoader();
    thread.setContextClassLoader(new SingleMachineLoader(before == null ? Clusters.class.getClassLoader() : before));
    try {
      return build.get();
    } finally {
      thread.setContextClassLoader(before);
    }
  }
}
