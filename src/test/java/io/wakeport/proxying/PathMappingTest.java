package io.wakeport.proxying;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PathMappingTest {

  @Test
  void aStrippedPrefixLeavesTheRestAndTheQuery() {
    PathMapping strip = new PathMapping("/legacy", "");
    assertEquals("/x/y?a=1", strip.toBackend("/legacy/x/y?a=1"));
    assertEquals("/", strip.toBackend("/legacy"));
    assertEquals("/?a=1", strip.toBackend("/legacy?a=1"));
    assertEquals("/legacy/login", strip.toPublic("/login"));
    assertEquals("/legacy/", strip.toPublic("/"));
    assertEquals("relative", strip.toPublic("relative"));
    // Written by an app that honours X-Forwarded-Prefix: already public.
    assertEquals("/legacy/login", strip.toPublic("/legacy/login"));
    assertEquals("/legacy", strip.toPublic("/legacy"));
    assertEquals("/legacy/legacyx", strip.toPublic("/legacyx"));
  }

  @Test
  void aMappedPrefixIsPutBackOnlyOnPathsUnderIt() {
    PathMapping media = new PathMapping("/static/", "/media/");
    assertEquals("/media/a.css", media.toBackend("/static/a.css"));
    assertEquals("/static/b.png", media.toPublic("/media/b.png"));
    assertEquals("/other", media.toPublic("/other"));
  }
}
