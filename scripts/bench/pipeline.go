package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"adly/pkg/config"
)

const apiEventsSeries = `adly_api_events_total{type="impression"}`

// pipelineEnv is mode pipeline's settings.
type pipelineEnv struct {
	Servers
	Procs
	Rounds     int    `envconfig:"ROUNDS" default:"3"`
	Duration   string `envconfig:"DURATION" default:"30s"`
	HTTPAddr   string `envconfig:"BENCH_HTTP_ADDR" default:"127.0.0.1:18080"`
	AdminAddr  string `envconfig:"BENCH_ADMIN_ADDR" default:"127.0.0.1:19091"`
	WorkerAddr string `envconfig:"BENCH_WORKER_ADMIN_ADDR" default:"127.0.0.1:19092"`
	WaitSecs   int    `envconfig:"ADLY_WAIT_SECS" default:"30"`

	secs int
}

func (e *pipelineEnv) Validate() error {
	var err error
	e.secs, err = durationSecs(e.Duration)
	return errors.Join(e.Servers.Validate(), e.Procs.Validate(), checkRounds(e.Rounds), err,
		loopbackAddr("BENCH_HTTP_ADDR", e.HTTPAddr), loopbackAddr("BENCH_ADMIN_ADDR", e.AdminAddr),
		loopbackAddr("BENCH_WORKER_ADMIN_ADDR", e.WorkerAddr), checkWait(e.WaitSecs))
}

// pipelineBench measures what counting costs the ingest on a shared machine: in interleaved rounds, the API
// alone under wrk (GET /track/impression?ad_id=123), and the API with one impression-worker counting under
// the same load. After the second run it times the catch-up, from wrk's exit to SUM(impressions) reaching
// what the API stored (its adly_api_events_total), and checks that every event wrk saw answered 200 was
// counted exactly once. The two runs alternate their order from round to round, so neither always runs
// first. The API runs throughout; Redis and the tables are emptied after every run.
type pipelineBench struct {
	env pipelineEnv
	*bench
	alone, counted []float64 // req/s per round
	catchUp        []float64 // seconds per round
	p99a, p99b     []float64
	workerMB       float64
}

func newPipeline() (mode, error) {
	p := &pipelineBench{}
	if err := config.Load(&p.env); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *pipelineBench) plan() string {
	total := p.env.Rounds * 2 * p.env.secs
	return fmt.Sprintf("mode pipeline: %d rounds x 2 runs (API alone, API + impression-worker) x %s = %ds of load (%s), "+
		"plus the catch-ups, build and start-up", p.env.Rounds, p.env.Duration, total, minSecs(total))
}

func (p *pipelineBench) run(ctx context.Context, b *bench) error {
	p.bench = b
	e := p.env
	within := time.Duration(e.WaitSecs) * time.Second
	if err := b.prepareAPIAndWorker(ctx, e.Redis, e.DB, e.HTTPAddr, e.AdminAddr, e.WorkerAddr); err != nil {
		return err
	}
	api, err := b.startAPI(ctx, e.HTTPAddr, e.AdminAddr, within)
	if err != nil {
		return err
	}
	gmp := e.note("API and worker alike", "")
	if e.GoMaxProcs == "" {
		gmp = e.note("API and worker alike", gomaxprocsOf("http://"+e.AdminAddr+"/metrics"))
	}
	la := loadAvg()
	info("database %s, Redis keys under %s; %s", b.dbName, b.prefix, gmp)
	t := target{name: "impression", url: "http://" + e.HTTPAddr + "/track/impression?ad_id=123", server: api}

	fmt.Printf("\nadly pipeline benchmark: %s; %d rounds, wrk %s -d%s --latency, %s\n", la, e.Rounds, wrkArgs, e.Duration, gmp)
	for r := 1; r <= e.Rounds; r++ {
		var alone, counted wrkRun
		var catchUp time.Duration
		var rss float64
		for _, withWorker := range []bool{r%2 == 0, r%2 == 1} {
			if err := api.exitedEarly(); err != nil {
				return err
			}
			if withWorker {
				if counted, catchUp, rss, err = p.withWorker(ctx, t, r, within); err != nil {
					return fmt.Errorf("round %d, API + worker: %w", r, err)
				}
				continue
			}
			t.name = "alone"
			if alone, err = b.wrk(ctx, e.Duration, e.secs, t, r); err != nil {
				return fmt.Errorf("round %d, API alone: %w", r, err)
			}
			if alone.non2xx > 0 || alone.sock > 0 {
				return fmt.Errorf("round %d, API alone: %v: the API was measured while failing%s", r, alone.flags, api.tail())
			}
			if err := b.unlinkPrefix(ctx); err != nil {
				return err
			}
		}
		p.alone, p.counted = append(p.alone, alone.rps), append(p.counted, counted.rps)
		p.p99a, p.p99b = append(p.p99a, alone.p99ms), append(p.p99b, counted.p99ms)
		p.catchUp = append(p.catchUp, catchUp.Seconds())
		p.workerMB = max(p.workerMB, rss)
		fmt.Printf("round %d/%d  alone %9.0f req/s p99 %6.2f ms | with worker %9.0f req/s p99 %6.2f ms (%.3f) | catch-up %.2fs | worker %.1f MB | counts exact\n",
			r, e.Rounds, alone.rps, alone.p99ms, counted.rps, counted.p99ms, ratio(counted.rps, alone.rps), catchUp.Seconds(), rss)
	}
	p.summary(ctx, la, gmp)
	return nil
}

// withWorker is one run of the API with a worker counting: the worker starts on an empty stream and empty
// tables, wrk loads the API, and the catch-up is timed from wrk's exit until the sum reaches what the API
// stored. It returns wrk's figures, the catch-up and the worker's peak RSS in MB.
func (p *pipelineBench) withWorker(ctx context.Context, t target, round int, within time.Duration) (wrkRun, time.Duration, float64, error) {
	e := p.env
	if err := p.truncate(ctx, "ad_daily_impressions", "stream_ledger", "stream_locks", "stream_replays"); err != nil {
		return wrkRun{}, 0, 0, err
	}
	worker, err := p.startWorker(ctx, fmt.Sprintf("bench-pipeline-r%d", round), e.WorkerAddr, within)
	if err != nil {
		return wrkRun{}, 0, 0, err
	}
	metrics := "http://" + e.AdminAddr + "/metrics"
	stored0, err := scrapeMetric(metrics, apiEventsSeries)
	if err != nil {
		return wrkRun{}, 0, 0, err
	}
	t.name = "counted"
	run, err := p.wrk(ctx, e.Duration, e.secs, t, round)
	if err != nil {
		return wrkRun{}, 0, 0, err
	}
	end := time.Now()
	if run.non2xx > 0 || run.sock > 0 {
		return wrkRun{}, 0, 0, fmt.Errorf("%v: the API was measured while failing%s", run.flags, t.server.tail())
	}
	// Requests in flight when wrk stopped were still stored, so the API's counter can exceed wrk's count.
	stored1, err := scrapeMetric(metrics, apiEventsSeries)
	if err != nil {
		return wrkRun{}, 0, 0, err
	}
	stored := int64(stored1 - stored0)
	if stored < int64(run.requests) {
		return wrkRun{}, 0, 0, fmt.Errorf("wrk saw %d answers 200, but the API stored %d events", run.requests, stored)
	}
	seen, err := p.waitSum(ctx, stored, worker, t.server)
	if err != nil {
		return wrkRun{}, 0, 0, err
	}
	catchUp := seen.Sub(end)
	// Nothing arrives late, nothing twice.
	time.Sleep(500 * time.Millisecond)
	if sum, err := p.sumImpressions(ctx); err != nil {
		return wrkRun{}, 0, 0, err
	} else if sum != stored {
		return wrkRun{}, 0, 0, miscount("The worker miscounted", "SUM(impressions) = %d, but the API stored %d events (%+d).", sum, stored, sum-stored)
	}
	kb, err := peakRSS(worker.cmd.Process.Pid)
	if err != nil {
		return wrkRun{}, 0, 0, fmt.Errorf("%s: %w", worker.name, err)
	}
	if err := worker.stop(); err != nil {
		return wrkRun{}, 0, 0, err
	}
	p.forget(worker)
	return run, max(catchUp, 0), float64(kb) / 1024, p.unlinkPrefix(ctx)
}

// summary prints the medians, the targets and the report.
func (p *pipelineBench) summary(ctx context.Context, la, gmp string) {
	e := p.env
	a, c := median(p.alone), median(p.counted)
	r, rr := ratio(c, a), medianRatio(p.counted, p.alone)
	cu, cuMax := median(p.catchUp), 0.0
	for _, x := range p.catchUp {
		cuMax = max(cuMax, x)
	}
	tRate, tCatch := met(round3(r) >= 0.75), met(cuMax <= 2)
	fmt.Printf("\nsummary (median of %d rounds)\n", e.Rounds)
	fmt.Printf("  API alone        %9.0f req/s  p99 %6.2f ms\n", a, median(p.p99a))
	fmt.Printf("  API + worker     %9.0f req/s  p99 %6.2f ms  vs alone %.3f (median of per-round ratios %.3f)  target >= 0.75: %s\n",
		c, median(p.p99b), r, rr, tRate)
	fmt.Printf("  catch-up after the load: median %.2fs, worst %.2fs  target <= 2 s: %s\n", cu, cuMax, tCatch)
	fmt.Printf("  worker peak RSS %.1f MB; counts exact after every counted run\n", p.workerMB)

	var rounds []string
	for i := range p.alone {
		rounds = append(rounds, fmt.Sprintf("round %d: alone %.0f, with worker %.0f req/s (%.3f), catch-up %.2f s",
			i+1, p.alone[i], p.counted[i], ratio(p.counted[i], p.alone[i]), p.catchUp[i]))
	}
	report{
		title:    "adly pipeline benchmark (API alone vs API + impression-worker)",
		command:  e.command(fmt.Sprintf("DURATION=%s ROUNDS=%d", e.Duration, e.Rounds), "pipeline"),
		software: []string{p.redisVersion(ctx), p.dbVersion(ctx), wrkVersion()},
		load: fmt.Sprintf("`wrk %s -d%s --latency` on `GET /track/impression?ad_id=123` over loopback; %d interleaved rounds "+
			"(API alone, API + one impression-worker as shipped, order alternating); %s; %s at the start",
			wrkArgs, e.Duration, e.Rounds, gmp, la),
		header: []string{fmt.Sprintf("Run (median of %d rounds)", e.Rounds), "req/s", "p99 ms", "vs alone (ratio of medians)",
			"(median of per-round ratios)", "target"},
		align: []string{"---", "--:", "--:", "--:", "--:", "---"},
		rows: [][]string{
			{"API alone", fmt.Sprintf("%.0f", a), fmt.Sprintf("%.2f", median(p.p99a)), "1.000", "1.000", ""},
			{"API + impression-worker counting", fmt.Sprintf("%.0f", c), fmt.Sprintf("%.2f", median(p.p99b)),
				fmt.Sprintf("%.3f", r), fmt.Sprintf("%.3f", rr), "≥ 0.75: " + tRate},
		},
		footer: fmt.Sprintf("Catch-up from the end of wrk's load to every stored event counted: median %.2f s, worst %.2f s "+
			"(target ≤ 2 s: %s). Worker peak RSS %.1f MB. Counts exact after every counted run: SUM(impressions) = the API's "+
			"adly_api_events_total{type=\"impression\"} over the run (at least wrk's answers 200).\n\n- %s\n",
			cu, cuMax, tCatch, p.workerMB, strings.Join(rounds, "\n- ")),
	}.write(os.Stdout)
}
