package io.wakeport.cli;

import io.wakeport.Wakeport;
import io.wakeport.config.ConfigException;
import io.wakeport.config.ConfigLoader;
import io.wakeport.config.WakeportConfig;
import io.wakeport.containment.Containment;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code wakeport run} and {@code wakeport check}; the commands that talk to a running wakeport
 * through its admin listener ({@link AdminCommands}).
 */
@Command(name = "wakeport", mixinStandardHelpOptions = true, version = "wakeport 0.1.0",
    description = "On-demand process launcher and port-mapping reverse proxy.",
    subcommands = {Main.Run.class, Main.Check.class, AdminCommands.Status.class, AdminCommands.Start.class,
        AdminCommands.Stop.class, AdminCommands.Restart.class, AdminCommands.Drain.class, AdminCommands.Enable.class,
        AdminCommands.Reload.class, AdminCommands.DrainNode.class, AdminCommands.UndrainNode.class,
        AdminCommands.Logs.class, AdminCommands.HashPassword.class})
public final class Main {

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Command(name = "run", description = "Serve the tenants of a config file until stopped (TERM or INT); "
      + "edits to the config files apply live, HUP applies them at once.")
  static final class Run implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "YAML config file")
    Path config;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Override
    public Integer call() throws Exception {
      long began = System.nanoTime();
      WakeportConfig first;
      try {
        first = ConfigLoader.load(config);
      } catch (ConfigException e) {
        // One problem (a missing file, say) fits on one line; several get a heading.
        System.err.println(e.problems().size() == 1 ? "wakeport: " + e.getMessage()
            : "wakeport: the config cannot be used:\n" + e.getMessage());
        return 2;
      }
      // HUP applies the config at once (the watcher waits for edits to settle, or is off). The
      // handler goes in before anything starts: the JVM's own would end wakeport.
      java.util.concurrent.atomic.AtomicReference<Wakeport> started = new java.util.concurrent.atomic.AtomicReference<>();
      java.util.concurrent.atomic.AtomicBoolean hangupWhileStarting = new java.util.concurrent.atomic.AtomicBoolean();
      sun.misc.SignalHandler before = sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> {
        Wakeport running = started.get();
        if (running != null) {
          new Thread(running::reload, "wakeport-reload").start();
        } else {
          hangupWhileStarting.set(true);
        }
      });
      if (before == sun.misc.SignalHandler.SIG_IGN) {
        // Started with HUP ignored (nohup does that): the JVM then keeps it ignored and silently
        // installs nothing, and Java has no way to undo it. Say so rather than let kill -HUP do nothing.
        log.warn("HUP is ignored (inherited, e.g. from nohup): kill -HUP will not reload; "
            + (first.watch().enabled() ? "config edits still apply through the file watcher"
                : "with watch: false, config edits apply only after a restart"));
      }
      Wakeport wakeport;
      try {
        wakeport = Wakeport.start(first);
      } catch (io.wakeport.admin.AdminListenException e) {
        System.err.println("wakeport: " + e.getMessage());
        return 1;
      } catch (Exception e) {
        String reason = BindFailure.reason(e);
        if (reason == null) {
          throw e;
        }
        String https = BindFailure.httpsAddress(e);
        System.err.println("wakeport: cannot listen on " + (https != null ? https + " (https.listen in "
            : BindFailure.address(first.listenHost(), first.listenPort()) + " (listen in ") + first.file() + "): " + reason);
        return 1;
      }
      first = null; // this method runs for wakeport's whole life: do not pin the start-up snapshot after a reload
      wakeport.watchConfig();
      started.set(wakeport);
      log.info("started in {} ms", (System.nanoTime() - began) / 1_000_000);
      if (hangupWhileStarting.getAndSet(false)) {
        wakeport.reload();
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        log.info("stopping: shutting down backends");
        try {
          wakeport.close();
        } catch (Exception e) {
          log.error("shutdown incomplete", e);
        }
        stopped.countDown();
      }, "wakeport-shutdown"));
      stopped.await();
      return 0;
    }
  }

  @Command(name = "check", description = "Validate a config file without starting anything.")
  static final class Check implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "YAML config file")
    Path config;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Override
    public Integer call() {
      try {
        WakeportConfig loaded = ConfigLoader.check(config);
        // Warnings do not make the config unusable: reported, and the exit code stays 0.
        loaded.warnings().forEach(w -> System.err.println("warning: " + w));
        // Limits this machine cannot enforce: found the way a start would (the cgroups made to find out are removed).
        if (loaded.tenants().values().stream().anyMatch(t -> t.policy().limits().any())) {
          Containment containment = Containment.detect(loaded.stateDir(), loaded.supervisor().containment());
          containment.unenforceable(loaded).forEach(w -> System.err.println("warning: " + w));
          containment.close();
        }
        // Commands are looked at only here: a start reports its own failure, and a reload of many
        // tenants should not stat every PATH entry for each.
        java.util.List<io.wakeport.config.ConfigProblem> commands =
            io.wakeport.config.CommandCheck.problems(loaded, System.getenv("PATH"));
        if (!commands.isEmpty()) {
          commands.forEach(p -> System.err.println(p));
          return 1;
        }
        System.out.println(loaded.file() + ": ok, " + loaded.tenants().size() + " tenants");
        return 0;
      } catch (ConfigException e) {
        System.err.println(e.getMessage());
        return 1;
      }
    }
  }
}
