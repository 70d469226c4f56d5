# Draws BootBench's plot.dat: gnuplot -e "data='plot.dat'; out='boot.png'" boot.gp
# Left: start to first UART byte and start to exit (ms, log scale); right: peak RSS and idle RSS
# outside guest RAM (MiB). Bars are medians, whiskers p10..p90.
if (!exists("title")) title = "Boot and footprint: Nimbus and QEMU (KVM), hello guest"
set terminal pngcairo size 1200,560 font "sans,10"
set output out
set multiplot layout 1,2 title title font "sans,12"

set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key outside top center horizontal
set xtics rotate by -25 noenhanced
set bars 0.5

# Columns in plot.dat: 1 name, then per metric median p10 p90:
#  first byte 2-4, marker 5-7, exit 8-10, peak RSS 11-13, CPU 14-16, idle outside 17-19.
set title "Time from process start (ms, log scale)"
set logscale y
set yrange [10:*]
plot data using 2:3:4:xtic(1) title "first UART byte" lc rgb "#4477aa", \
     ''   using 8:9:10 title "process exit" lc rgb "#ee6677"

unset logscale y
set title "Memory (MiB)"
set yrange [0:*]
plot data using 11:12:13:xtic(1) title "peak RSS" lc rgb "#228833", \
     ''   using 17:18:19 title "idle RSS outside guest RAM" lc rgb "#ccbb44"
unset multiplot
