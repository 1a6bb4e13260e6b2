package io.wakeport.accesslog;

/** Turns an entry into one line of text. Called from the writer thread only, so it may keep state. */
interface LineFormat {

  /** Appends the entry and its {@code \n}; the text must hold no other line break. */
  void append(AccessEntry entry, StringBuilder out);
}
