// Where a JFR recording says the CPU and the allocations go: JDK 17 has no `jfr view hot-methods`,
// so this does the aggregation. JDK only, used by bench/compare.sh:
//
//   java bench/JfrTop.java /tmp/wp.jfr [TOP=15] [FROM_EPOCH_MS] [TO_EPOCH_MS]
//
// With FROM/TO only events that started in that window count (e.g. the part of a recording
// after the JIT had recompiled what starting JFR threw away).
// Prints, from jdk.ExecutionSample: the hottest methods by self samples (top frame), the same with
// JDK frames attributed to their first caller outside java.*/jdk.*/sun.* ("first library frame"),
// and the io.wakeport and io.vertx.httpproxy methods by inclusive samples (-Dinclusive=PREFIX,...
// chooses others); from jdk.ObjectAllocationSample (weighted by
// the sampled bytes, a thread's first sample dropped as it covers the time before the recording): allocation sites (top frame), the first frame in io.wakeport/io.vertx/io.netty,
// and the classes allocated. Also GC count and pause total, and the JVM's CPU load.

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

public class JfrTop {

    private static final String[] INCLUSIVE =
        System.getProperty("inclusive", "io.wakeport.,io.vertx.httpproxy.").split(",");

    private static boolean inclusive(String method) {
        for (String prefix : INCLUSIVE) {
            if (method.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int top = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        long fromMs = args.length > 2 ? Long.parseLong(args[2]) : Long.MIN_VALUE;
        long toMs = args.length > 3 ? Long.parseLong(args[3]) : Long.MAX_VALUE;

        Map<String, Long> self = new HashMap<>();
        Map<String, Long> selfLib = new HashMap<>();
        Map<String, Long> inclusiveWakeport = new HashMap<>();
        Map<String, Long> threads = new HashMap<>();
        Map<String, Long> allocSite = new HashMap<>();
        Map<String, Long> allocLib = new HashMap<>();
        Map<String, Long> allocClass = new HashMap<>();
        long samples = 0;
        long allocTotal = 0;
        long gcs = 0;
        long gcPauseNanos = 0;
        double cpuUser = 0;
        double cpuSystem = 0;
        double cpuMachine = 0;
        int cpuEvents = 0;

        // A thread's first allocation sample carries everything it allocated since it started (or
        // since the recording began), not a sampling interval: drop it.
        List<RecordedEvent> events = new java.util.ArrayList<>(RecordingFile.readAllEvents(file));
        events.sort(java.util.Comparator.comparing(RecordedEvent::getStartTime));
        Set<Long> allocThreadsSeen = new HashSet<>();
        Map<String, Long> cpuStacks = new HashMap<>();
        Map<String, Long> allocStacks = new HashMap<>();
        long droppedFirst = 0;
        long nativeSamples = 0;
        Map<String, Long> nativeTop = new HashMap<>();
        for (RecordedEvent e : events) {
            long at = e.getStartTime().toEpochMilli();
            if (at < fromMs || at > toMs) {
                continue;
            }
            String type = e.getEventType().getName();
            switch (type) {
                case "jdk.ExecutionSample" -> {
                    RecordedStackTrace st = e.getStackTrace();
                    if (st == null || st.getFrames().isEmpty()) {
                        continue;
                    }
                    samples++;
                    List<RecordedFrame> frames = st.getFrames();
                    self.merge(name(frames.get(0)), 1L, Long::sum);
                    selfLib.merge(firstOutsideJdk(frames), 1L, Long::sum);
                    cpuStacks.merge(stack(frames, 10), 1L, Long::sum);
                    Set<String> seen = new HashSet<>();
                    for (RecordedFrame f : frames) {
                        String n = name(f);
                        if (inclusive(n) && seen.add(n)) {
                            inclusiveWakeport.merge(n, 1L, Long::sum);
                        }
                    }
                    if (e.hasField("sampledThread") && e.getThread("sampledThread") != null) {
                        String tn = e.getThread("sampledThread").getJavaName();
                        threads.merge(tn == null ? "?" : tn.replaceAll("\\d+", "N"), 1L, Long::sum);
                    }
                }
                case "jdk.ObjectAllocationSample" -> {
                    long tid = e.getThread() == null ? -1 : e.getThread().getId();
                    if (allocThreadsSeen.add(tid)) {
                        droppedFirst++;
                        continue;
                    }
                    long weight = e.getLong("weight");
                    allocTotal += weight;
                    String cls = e.getClass("objectClass").getName();
                    allocClass.merge(cls, weight, Long::sum);
                    RecordedStackTrace st = e.getStackTrace();
                    if (st != null && !st.getFrames().isEmpty()) {
                        List<RecordedFrame> frames = st.getFrames();
                        allocSite.merge(name(frames.get(0)), weight, Long::sum);
                        allocLib.merge(firstInLibrary(frames), weight, Long::sum);
                        allocStacks.merge(stack(frames, 10), weight, Long::sum);
                    }
                }
                case "jdk.NativeMethodSample" -> {
                    RecordedStackTrace st = e.getStackTrace();
                    if (st != null && !st.getFrames().isEmpty()) {
                        nativeSamples++;
                        nativeTop.merge(name(st.getFrames().get(0)), 1L, Long::sum);
                    }
                }
                case "jdk.GarbageCollection" -> {
                    gcs++;
                    gcPauseNanos += e.getLong("sumOfPauses");
                }
                case "jdk.CPULoad" -> {
                    cpuUser += e.getFloat("jvmUser");
                    cpuSystem += e.getFloat("jvmSystem");
                    cpuMachine += e.getFloat("machineTotal");
                    cpuEvents++;
                }
                default -> { }
            }
        }

        if (fromMs != Long.MIN_VALUE) {
            System.out.printf(Locale.ROOT, "window: %.1f s of the recording%n", (Math.min(toMs, System.currentTimeMillis()) - fromMs) / 1000.0);
        }
        System.out.printf(Locale.ROOT, "recording %s: %d execution samples, %.1f MiB of sampled allocations"
                + " (first sample of each of %d threads dropped)%n", file, samples, allocTotal / 1048576.0, droppedFirst);
        if (cpuEvents > 0) {
            System.out.printf(Locale.ROOT, "JVM CPU load (share of all CPUs the JVM may use): user %.1f %%, system %.1f %%;"
                    + " machine total %.1f %%%n", 100 * cpuUser / cpuEvents, 100 * cpuSystem / cpuEvents, 100 * cpuMachine / cpuEvents);
        }
        System.out.printf(Locale.ROOT, "GC: %d collections, %.1f ms of pauses in total%n", gcs, gcPauseNanos / 1e6);
        print("sampled threads", threads, samples, top, false);
        print("hot methods, self (top frame)", self, samples, top, false);
        print("hot methods, JDK frames attributed to their first caller outside java.*/jdk.*/sun.*", selfLib, samples, top, false);
        print("threads in native code (jdk.NativeMethodSample, every 20 ms per thread: mostly waiting), top frame",
                nativeTop, nativeSamples, 5, false);
        print("io.wakeport and io.vertx.httpproxy methods (or -Dinclusive=PREFIX,...), inclusive (on the stack)", inclusiveWakeport, samples, top, false);
        print("allocation sites (top frame), by sampled bytes", allocSite, allocTotal, top, true);
        print("allocations by first frame in io.wakeport / io.vertx / io.netty", allocLib, allocTotal, top, true);
        print("allocated classes, by sampled bytes", allocClass, allocTotal, top, true);
        print("heaviest CPU stacks (10 frames, top first)", cpuStacks, samples, 3, false);
        print("heaviest allocation stacks (10 frames, top first)", allocStacks, allocTotal, 3, true);
    }

    private static String stack(List<RecordedFrame> frames, int depth) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(depth, frames.size()); i++) {
            sb.append("\n             ").append(name(frames.get(i)));
        }
        return sb.toString();
    }

    private static String name(RecordedFrame f) {
        if (f.getMethod() == null) {
            return "?";
        }
        String cls = f.getMethod().getType().getName();
        return cls + "." + f.getMethod().getName();
    }

    private static boolean isJdk(String n) {
        return n.startsWith("java.") || n.startsWith("jdk.") || n.startsWith("sun.") || n.startsWith("javax.");
    }

    private static String firstOutsideJdk(List<RecordedFrame> frames) {
        for (RecordedFrame f : frames) {
            String n = name(f);
            if (!isJdk(n)) {
                return n;
            }
        }
        return name(frames.get(0));
    }

    private static String firstInLibrary(List<RecordedFrame> frames) {
        for (RecordedFrame f : frames) {
            String n = name(f);
            if (n.startsWith("io.wakeport.") || n.startsWith("io.vertx.") || n.startsWith("io.netty.")) {
                return n;
            }
        }
        return name(frames.get(0));
    }

    private static void print(String title, Map<String, Long> counts, long total, int top, boolean bytes) {
        System.out.println();
        System.out.println(title + ":");
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(top)
                .forEach(en -> {
                    double pct = total == 0 ? 0 : 100.0 * en.getValue() / total;
                    if (bytes) {
                        System.out.printf(Locale.ROOT, "  %5.1f %%  %8.1f MiB  %s%n", pct, en.getValue() / 1048576.0, en.getKey());
                    } else {
                        System.out.printf(Locale.ROOT, "  %5.1f %%  %6d  %s%n", pct, en.getValue(), en.getKey());
                    }
                });
    }
}
