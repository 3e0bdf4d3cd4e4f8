package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"adly/pkg/config"
)

// loadEnv is mode load's settings.
type loadEnv struct {
	Servers
	Procs
	Rate        int    `envconfig:"RATE" default:"5000"`
	Duration    string `envconfig:"DURATION" default:"30s"`
	Concurrency int    `envconfig:"CONCURRENCY" default:"64"`
	HTTPAddr    string `envconfig:"BENCH_HTTP_ADDR" default:"127.0.0.1:18080"`
	AdminAddr   string `envconfig:"BENCH_ADMIN_ADDR" default:"127.0.0.1:19091"`
	WorkerAddr  string `envconfig:"BENCH_WORKER_ADMIN_ADDR" default:"127.0.0.1:19092"`
	WaitSecs    int    `envconfig:"ADLY_WAIT_SECS" default:"30"`

	secs int
}

func (e *loadEnv) Validate() error {
	var err error
	e.secs, err = durationSecs(e.Duration)
	var rate, conc error
	if e.Rate < 1 || e.Rate > 1000000 {
		rate = fmt.Errorf("RATE must be between 1 and 1000000 events/s, got %d", e.Rate)
	}
	if e.Concurrency < 1 || e.Concurrency > 4096 {
		conc = fmt.Errorf("CONCURRENCY must be between 1 and 4096, got %d", e.Concurrency)
	}
	return errors.Join(e.Servers.Validate(), e.Procs.Validate(), err, rate, conc,
		loopbackAddr("BENCH_HTTP_ADDR", e.HTTPAddr), loopbackAddr("BENCH_ADMIN_ADDR", e.AdminAddr),
		loopbackAddr("BENCH_WORKER_ADMIN_ADDR", e.WorkerAddr), checkWait(e.WaitSecs))
}

// loadBench runs one API and one impression-worker, both as shipped, under GET /track/impression at a fixed
// rate (ad_ids 1..1000 in turn), and measures what the worker's batching costs and buys: MariaDB commits per
// second during the load (the server's Com_commit, which other databases add to, and the worker's own
// adly_worker_batches_total), and how long after the API's answer each event is counted in MariaDB (a
// sample of SUM(impressions) every 10 ms; see visibleDelays). Every event answered 200 must be counted once.
type loadBench struct {
	env loadEnv
	*bench
}

func newLoad() (mode, error) {
	l := &loadBench{}
	if err := config.Load(&l.env); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *loadBench) plan() string {
	return fmt.Sprintf("mode load: %d events/s for %s (%d events) from %d senders into one API and one impression-worker, "+
		"then until every event is counted; plus build and start-up", l.env.Rate, l.env.Duration, l.env.Rate*l.env.secs, l.env.Concurrency)
}

func (l *loadBench) run(ctx context.Context, b *bench) error {
	l.bench = b
	e := l.env
	within := time.Duration(e.WaitSecs) * time.Second
	if err := b.prepareAPIAndWorker(ctx, e.Redis, e.DB, e.HTTPAddr, e.AdminAddr, e.WorkerAddr); err != nil {
		return err
	}
	api, err := b.startAPI(ctx, e.HTTPAddr, e.AdminAddr, within)
	if err != nil {
		return err
	}
	worker, err := b.startWorker(ctx, "bench-load", e.WorkerAddr, within)
	if err != nil {
		return err
	}
	batchesURL, batches := "http://"+e.WorkerAddr+"/metrics", "adly_worker_batches_total"
	gmp := e.note("API and worker alike", "")
	la := loadAvg()
	info("database %s, Redis keys under %s; %s; %s", b.dbName, b.prefix, gmp, la)

	// The poller samples the sum from before the first event until every answered event is counted.
	var samples []sumSample
	var mu sync.Mutex // guards samples while the poller runs
	lastSum := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		if len(samples) == 0 {
			return -1
		}
		return samples[len(samples)-1].sum
	}
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	var pollErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(pollSum)
		defer t.Stop()
		for {
			sum, err := b.sumImpressions(pollCtx)
			if pollCtx.Err() != nil {
				return
			}
			if err != nil {
				pollErr = err
				return
			}
			mu.Lock()
			samples = append(samples, sumSample{at: time.Now(), sum: sum})
			mu.Unlock()
			select {
			case <-pollCtx.Done():
				return
			case <-t.C:
			}
		}
	}()

	commits0, err := b.comCommit(ctx)
	if err != nil {
		return err
	}
	batches0, err := scrapeMetric(batchesURL, batches)
	if err != nil {
		return err
	}
	fmt.Printf("\nadly load benchmark: %s; %d events/s for %s from %d senders, GET /track/impression?ad_id=1..1000\n",
		la, e.Rate, e.Duration, e.Concurrency)
	start := time.Now()
	p := newPacer(start, e.Rate, time.Duration(e.secs)*time.Second)
	url := "http://" + e.HTTPAddr + "/track/impression?ad_id="
	res := drive(ctx, p, e.Concurrency, func(i int64) string { return url + strconv.FormatInt(i%1000+1, 10) })
	end := time.Now()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	commits1, err := b.comCommit(ctx)
	if err != nil {
		return err
	}
	batches1, err := scrapeMetric(batchesURL, batches)
	if err != nil {
		return err
	}
	if res.failed > 0 {
		return fmt.Errorf("%d of %d requests failed or were not answered 200: the API was measured while failing%s",
			res.failed, p.total, api.tail())
	}
	answered := int64(len(res.answered))
	if _, err := b.waitSum(ctx, answered, api, worker); err != nil {
		return err
	}
	// The poller's own read must see the last event too; it is at most one poll behind.
	for deadline := time.Now().Add(5 * time.Second); lastSum() < answered && time.Now().Before(deadline); {
		time.Sleep(pollSum)
	}
	stopPoll()
	wg.Wait()
	if pollErr != nil {
		return pollErr
	}
	// A last look after the pollers stopped: nothing arrives late and nothing twice.
	time.Sleep(500 * time.Millisecond)
	if sum, err := b.sumImpressions(ctx); err != nil {
		return err
	} else if sum != answered {
		return miscount("The worker miscounted", "SUM(impressions) = %d, but %d events were answered 200 (%+d).", sum, answered, sum-answered)
	}
	rss, err := peakRSS(worker.cmd.Process.Pid)
	if err != nil {
		return fmt.Errorf("%s: %w", worker.name, err)
	}
	apiRSS, err := peakRSS(api.cmd.Process.Pid)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	delays, unseen := visibleDelays(res.answered, samples)
	if unseen > 0 {
		return fmt.Errorf("%d answered events were never seen counted by the poller", unseen)
	}
	secs := end.Sub(start).Seconds()
	l.summary(ctx, loadResult{
		la: la, gmp: gmp, secs: secs, answered: answered, maxLate: res.maxLate,
		achieved:  float64(answered) / res.answered[len(res.answered)-1].Sub(start).Seconds(),
		commitsPS: float64(commits1-commits0) / secs, batchesPS: (batches1 - batches0) / secs,
		p50: percentile(delays, 50), p99: percentile(delays, 99), max: percentile(delays, 100),
		workerMB: float64(rss) / 1024, apiMB: float64(apiRSS) / 1024, samples: len(samples),
	})
	return nil
}

// loadResult is what one load run measured.
type loadResult struct {
	la, gmp              string
	secs                 float64 // from the first event's due time to the last answer
	answered             int64
	achieved             float64 // events/s answered 200
	maxLate              time.Duration
	commitsPS, batchesPS float64
	p50, p99, max        time.Duration
	workerMB, apiMB      float64
	samples              int
}

// summary prints the figures, the targets and the report.
func (l *loadBench) summary(ctx context.Context, r loadResult) {
	e := l.env
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	tCommits := met(r.batchesPS <= 5)
	tP99, tRSS := met(r.p99 < time.Second), met(round1(r.workerMB) < 100)
	lines := []string{
		fmt.Sprintf("load held: %.0f events/s answered 200 (%d events in %.1fs), latest send %s after its due time",
			r.achieved, r.answered, r.secs, ms(r.maxLate)),
		fmt.Sprintf("worker commits: %.2f/s (adly_worker_batches_total) target <= 5/s: %s; server Com_commit: %.2f/s (every database on the server)",
			r.batchesPS, tCommits, r.commitsPS),
		fmt.Sprintf("answer to counted: p50 %s, p99 %s, max %s (%d samples of SUM every %s) target p99 < 1 s: %s",
			ms(r.p50), ms(r.p99), ms(r.max), r.samples, pollSum, tP99),
		fmt.Sprintf("peak RSS: worker %.1f MB (target < 100 MB: %s), API %.1f MB", r.workerMB, tRSS, r.apiMB),
		fmt.Sprintf("counts: exact (SUM(impressions) = %d = events answered 200)", r.answered),
	}
	fmt.Println()
	for _, line := range lines {
		fmt.Println("  " + line)
	}
	report{
		title:    "adly load benchmark (API + impression-worker at a fixed rate)",
		command:  e.command(fmt.Sprintf("RATE=%d DURATION=%s", e.Rate, e.Duration), "load"),
		software: []string{l.redisVersion(ctx), l.dbVersion(ctx)},
		load: fmt.Sprintf("%d events/s of `GET /track/impression?ad_id=1..1000` for %s from %d senders in the benchmark, over loopback, "+
			"into one API and one impression-worker as shipped (BATCH_WAIT and MERGE_READS at their defaults); %s; %s at the start",
			e.Rate, e.Duration, e.Concurrency, r.gmp, r.la),
		header: []string{"Measure", "value", "target"},
		align:  []string{"---", "--:", "---"},
		rows: [][]string{
			{"events/s answered 200 (held rate)", fmt.Sprintf("%.0f", r.achieved), fmt.Sprintf("%d", e.Rate)},
			{"latest send after its due time", ms(r.maxLate), ""},
			{"worker commits/s (`adly_worker_batches_total`)", fmt.Sprintf("%.2f", r.batchesPS), "≤ 5: " + tCommits},
			{"server commits/s (`Com_commit`, every database)", fmt.Sprintf("%.2f", r.commitsPS), ""},
			{"answer → counted, p50", ms(r.p50), ""},
			{"answer → counted, p99", ms(r.p99), "< 1 s: " + tP99},
			{"answer → counted, max", ms(r.max), ""},
			{"worker peak RSS", fmt.Sprintf("%.1f MB", r.workerMB), "< 100 MB: " + tRSS},
			{"API peak RSS", fmt.Sprintf("%.1f MB", r.apiMB), ""},
		},
		footer: fmt.Sprintf("Counts exact: SUM(impressions) = %d = events answered 200. Com_commit counts the COMMITs of every "+
			"connection to the server, other engineers' test databases included, so it bounds the worker's from above. "+
			"Answer → counted is measured to the end of the 10 ms poll that first saw the sum reach k for the k-th answer.\n", r.answered),
	}.write(os.Stdout)
}
