package io.wakeport.supervision;

import io.wakeport.containment.Containment;
import io.wakeport.containment.ListenerOwners;
import io.wakeport.containment.ListenerOwners.Listener;
import java.util.Collection;
import java.util.List;

/**
 * Whose process listens on a tenant's port, before the tenant's traffic (its cookies and
 * credentials) is sent there. Reads {@code /proc}; blocking, so it runs on a worker thread, and
 * only on the cold path: when a port is found open without a process of ours, and once when a
 * start becomes ready.
 */
final class PortOwnership {

  /** Worst first: the first of these that any listener on the port is decides. */
  enum Holder {
    /** Nobody listens (any more). */
    NOBODY,
    /** A process of another user: never gets the traffic. */
    OTHER_USER,
    /** A process wakeport started for another instance: never gets this one's traffic. */
    OTHER_INSTANCE,
    /** A process of wakeport's own user that wakeport did not start: used, unless the tenant says refuse. */
    SAME_USER,
    /** A process of this instance's own cell. */
    OWN_CELL
  }

  /** The verdict, and for logs who holds the port. */
  record Owner(Holder holder, String who) {
    static final Owner NOBODY = new Owner(Holder.NOBODY, "nobody");
  }

  private PortOwnership() {}

  /**
   * Who listens on 127.0.0.1:{@code port}, seen from the instance whose cell is {@code cellName}.
   * {@code members}, the cell's processes if known, are looked at first: when one of them holds
   * the socket, no scan of every process is needed.
   */
  static Owner of(int port, Containment containment, String cellName, Collection<Long> members) {
    List<Listener> listeners = ListenerOwners.on(port);
    if (listeners.isEmpty()) {
      return Owner.NOBODY;
    }
    int self = ListenerOwners.ownUid();
    Owner verdict = null;
    for (Listener bare : listeners) {
      Listener listener = ListenerOwners.heldBy(bare, members);
      if (listener.pid() < 0) {
        listener = ListenerOwners.find(bare);
      }
      Owner owner;
      if (listener.uid() != self) {
        owner = new Owner(Holder.OTHER_USER, listener.describe());
      } else {
        String cell = listener.pid() < 0 ? null : containment.cellOf(listener.pid());
        if (cell == null) {
          owner = new Owner(Holder.SAME_USER, listener.describe());
        } else if (cell.equals(cellName)) {
          owner = new Owner(Holder.OWN_CELL, listener.describe());
        } else {
          owner = new Owner(Holder.OTHER_INSTANCE, listener.describe() + ", started by wakeport for " + cell);
        }
      }
      if (verdict == null || owner.holder().ordinal() < verdict.holder().ordinal()) {
        verdict = owner;
      }
    }
    return verdict;
  }
}
