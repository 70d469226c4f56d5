package dev.nimbus.bench;

import java.util.Arrays;

/** Medians and formatting for benchmark results. */
final class Stats {
    private Stats() {}

    static double median(double[] runs) {
        double[] s = runs.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static String fmt(double v) {
        if (v >= 100) {
            return String.format("%,.0f", v);
        }
        return String.format("%.2f", v);
    }
}
