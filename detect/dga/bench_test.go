package dga

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// benchNames is a mix of benign and generated names in canonical form.
var benchNames = []string{
	"google.com", "www.facebook.com", "mail.yahoo.co.jp", "d1a2b3c4d5e6f7.cloudfront.net",
	"xjkqzvbnmwq.biz", "a17dyctgyeyh24ptdrmrgxo61gukzmra47f22.com", "reachingmetal.tel",
	"abuseautomacircumvention.ru", "stackoverflow.com", "api.github.com", "aaasxv.mooo.com",
	"0049332cd0dfa.blackfriday", "newsroom.bbc.co.uk", "ec2-54-12-3-4.compute-1.amazonaws.com",
	"wikipedia.org", "login.microsoftonline.com",
}

// threadCPU is the CPU time of the calling OS thread (Linux RUSAGE_THREAD),
// or 0 where unsupported. On a shared machine wall-clock ns/op overstates
// the cost; names per CPU-second of the benchmarking thread does not.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScore: the default path (parse, suffix split, traps, features
// with dictionary segmentation, trees, calibration) on one goroutine.
func BenchmarkScore(b *testing.B) {
	m := Default()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	var sink float64
	c0 := threadCPU()
	for i := 0; b.Loop(); i++ {
		sink += m.Score(benchNames[i%len(benchNames)]).Score
	}
	cpu := threadCPU() - c0
	_ = sink
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "names/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "names/cpu-s")
	}
}

// BenchmarkFeatures and BenchmarkForest split the cost.
func BenchmarkFeatures(b *testing.B) {
	m := Default()
	var f [numFeatures]float64
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0 := threadCPU()
	for i := 0; b.Loop(); i++ {
		m.features("xjkqzvbnmwqtrp", "biz", false, &f)
	}
	b.ReportMetric(float64((threadCPU()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func BenchmarkParse(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0 := threadCPU()
	for i := 0; b.Loop(); i++ {
		parseName(benchNames[i%len(benchNames)])
	}
	b.ReportMetric(float64((threadCPU()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func BenchmarkForest(b *testing.B) {
	m := Default()
	var f [numFeatures]float64
	m.features("xjkqzvbnmwqtrp", "biz", false, &f)
	var z float64
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0 := threadCPU()
	for i := 0; b.Loop(); i++ {
		z += m.forest.margin(&f)
	}
	b.ReportMetric(float64((threadCPU()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	_ = z
}
