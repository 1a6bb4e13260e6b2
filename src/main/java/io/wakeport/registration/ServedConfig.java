package io.wakeport.registration;

import io.wakeport.config.WakeportConfig;

/**
 * What a wakeport serves, and the one way to change it: a reload and a registration change alike
 * hand the files' config to {@link #serve}. Its monitor is the config lock: a reload holds it, and
 * the {@link RegistrationDesk} holds it while it changes the registrations and serves them, so the
 * two never interleave (a registration is never laid over a config a reload just replaced).
 */
public interface ServedConfig {

  /** The config as read from the files, without registered members. */
  WakeportConfig loaded();

  /**
   * Serves {@code loaded} (the files' config) with the registered members laid over it: one
   * routing swap, then the supervisor follows. Blocking: never from an event loop.
   */
  void serve(WakeportConfig loaded);
}
