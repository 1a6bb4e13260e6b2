package io.wakeport.registration;

import java.util.function.Supplier;

/**
 * Where registered members are shared with the other nodes of a cluster: a registration, load
 * report or deregistration on any node reaches every node, and a node that joins later gets the
 * members registered now. A single machine shares nothing ({@link #NONE}).
 */
public interface RegistrationSharing {

  /** A registered member as every node sees it: its address, weight, last load, and its lease times (epoch ms). */
  record Member(String tenant, String route, String address, int weight, int load, long registeredMillis,
      long lastReportMillis) {

    static Member of(Registration r) {
      return new Member(r.tenant(), r.route(), r.member().address(), r.weight(), r.load(), r.registeredMillis(),
          r.lastReportMillis());
    }
  }

  /** What other nodes change, as it arrives (on a cluster thread: hand it on, never wait). */
  interface Listener {
    void changed(Member member);

    void removed(Member member);
  }

  /**
   * Starts telling {@code listener} of every change, beginning with the members registered now.
   * A node's own changes come back too, and are to be taken as no change.
   */
  void open(Listener listener);

  /**
   * Runs {@code register} (the registration here, with all its checks) while no other node
   * registers a member of {@code tenant}, refused with 429 when {@code tenant} has
   * {@code maxMembers} members besides {@code route} across the cluster; then shares its outcome.
   * Blocking.
   */
  Registrations.Change register(String tenant, String route, int maxMembers,
      Supplier<Registrations.Change> register);

  /** A load report taken here: shared without waiting, unless the member left meanwhile. */
  void reported(Registration registration);

  /** A member deregistered here: gone for every node. Blocking. */
  void removed(Registration registration);

  /** A member's lease ran out here: gone for every node, unless it reported on another node meanwhile. Blocking. */
  void expired(Registration registration);

  /** A single machine: nothing shared, nothing counted but here. */
  RegistrationSharing NONE = new RegistrationSharing() {
    @Override
    public void open(Listener listener) {}

    @Override
    public Registrations.Change register(String tenant, String route, int maxMembers,
        Supplier<Registrations.Change> register) {
      return register.get();
    }

    @Override
    public void reported(Registration registration) {}

    @Override
    public void removed(Registration registration) {}

    @Override
    public void expired(Registration registration) {}
  };
}
