package io.wakeport.supervision;

/**
 * An instance could not be made ready. The message is for wakeport's log; clients are only told
 * the tenant name and when to retry, never paths or commands.
 */
public final class StartFailedException extends RuntimeException {

  private final String tenant;
  private final int retryAfterSeconds;

  public StartFailedException(String tenant, String message, int retryAfterSeconds) {
    super(message, null, false, false);
    this.tenant = tenant;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public String tenant() {
    return tenant;
  }

  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
