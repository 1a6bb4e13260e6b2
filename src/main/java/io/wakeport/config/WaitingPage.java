package io.wakeport.config;

import java.time.Duration;

/**
 * {@code waiting-page:}: a browser's page-load request held this long for a cold start gets a page
 * that reloads itself every {@code refresh} instead of a blank tab, until the backend is ready.
 *
 * @param enabled false for {@code waiting-page: off}: browsers wait like every other client
 * @param after   how long a request is held before it gets the page (a quick start never shows it)
 * @param refresh how often the page reloads itself (whole seconds, as the Refresh header counts)
 */
public record WaitingPage(boolean enabled, Duration after, Duration refresh) {

  /** On, after one second: longer than most warm-ish starts, short enough that a tab is never blank for long. */
  public static final WaitingPage DEFAULT = new WaitingPage(true, Duration.ofSeconds(1), Duration.ofSeconds(1));
  public static final WaitingPage OFF = new WaitingPage(false, DEFAULT.after, DEFAULT.refresh);

  public int refreshSeconds() {
    return (int) refresh.toSeconds();
  }
}
