package io.wakeport.cluster;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import java.util.Map;
import java.util.function.Function;

/** Keeps a local copy of a shared map. */
final class Mirror<V> implements EntryAddedListener<String, String>, EntryUpdatedListener<String, String>,
    EntryRemovedListener<String, String>, EntryEvictedListener<String, String> {

  private final Map<String, V> copy;
  private final Function<String, V> read;

  Mirror(Map<String, V> copy, Function<String, V> read) {
    this.copy = copy;
    this.read = read;
  }

  @Override
  public void entryAdded(EntryEvent<String, String> event) {
    copy.put(event.getKey(), read.apply(event.getValue()));
  }

  @Override
  public void entryUpdated(EntryEvent<String, String> event) {
    copy.put(event.getKey(), read.apply(event.getValue()));
  }

  @Override
  public void entryRemoved(EntryEvent<String, String> event) {
    gone(event);
  }

  @Override
  public void entryEvicted(EntryEvent<String, String> event) {
    gone(event);
  }

  private void gone(EntryEvent<String, String> event) {
    String old = event.getOldValue();
    if (old == null) {
      copy.remove(event.getKey());
    } else {
      copy.remove(event.getKey(), read.apply(old));
    }
  }
}
