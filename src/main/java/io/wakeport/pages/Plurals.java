package io.wakeport.pages;

/** Counts in words a page can show: "1 second", "2 seconds". */
public final class Plurals {

  private Plurals() {}

  public static String seconds(long n) {
    return n == 1 ? "1 second" : n + " seconds";
  }
}
