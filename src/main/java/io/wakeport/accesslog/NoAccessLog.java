package io.wakeport.accesslog;

/** The access log when it is off. */
final class NoAccessLog implements AccessLog {

  static final NoAccessLog INSTANCE = new NoAccessLog();

  private NoAccessLog() {}

  @Override
  public void record(AccessEntry entry) {}

  @Override
  public boolean enabled() {
    return false;
  }

  @Override
  public void close() {}
}
