package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuSample is CPU time used so far by the server, by this generator and by
// the whole machine. The generator shares the CPUs with the server (and
// MariaDB); the split over the measured window shows how much of the
// machine the server actually had, and whether anything else was busy.
type cpuSample struct {
	at                   time.Time
	server, self, system float64 // seconds
}

// clockTick is USER_HZ, the unit of /proc's CPU times; 100 on Linux
// everywhere in practice (reading it properly needs sysconf, i.e. cgo).
const clockTick = 100

func sampleCPU(pid int) (cpuSample, error) {
	s := cpuSample{at: time.Now()}
	var err error
	if s.server, err = procCPU(strconv.Itoa(pid)); err != nil {
		return s, err
	}
	if s.self, err = procCPU("self"); err != nil {
		return s, err
	}
	s.system, err = systemCPU()
	return s, err
}

// systemCPU returns the CPU seconds the whole machine has been busy.
func systemCPU() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	// First line: cpu user nice system idle iowait irq softirq steal ...
	line, _, _ := strings.Cut(string(b), "\n")
	var busy float64
	for i, f := range strings.Fields(line)[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseFloat(f, 64)
		busy += n / clockTick
	}
	return busy, nil
}

// procCPU returns user+system CPU seconds of /proc/<pid>.
func procCPU(pid string) (float64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	// Fields after the parenthesised command name, which may hold spaces;
	// utime and stime are fields 14 and 15 of the whole line.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%s/stat", pid)
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / clockTick, nil
}

// cores converts the CPU used between a and b into average busy cores.
func cores(a, b cpuSample) (server, self, other float64) {
	wall := b.at.Sub(a.at).Seconds()
	server, self = (b.server-a.server)/wall, (b.self-a.self)/wall
	other = max(0, (b.system-a.system)/wall-server-self)
	return round(server), round(self), round(other)
}
