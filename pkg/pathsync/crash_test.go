package pathsync

import (
	"adly/pkg/testkit"
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// These tests run the real path-syncer binary, kill it with SIGKILL at random moments or make it exit at
// injected fault points around the commit, while hits keep arriving; the totals must stay exact.

// cleanRunTTL is the lock lifetime of the clean run that follows a test's chaos. It races no one, and the
// chaos runs' 300 ms would let one scheduling pause on a loaded machine cost it its lock: it then stops, as
// it must, and exits 1 with "sync lock lost", which is not what the test is about.
const cleanRunTTL = "SYNC_LOCK_TTL=10s"

func (e *env) command(t *testing.T, args []string, extra ...string) *exec.Cmd {
	t.Helper()
	env := []string{"REDIS_KEY_PREFIX=" + e.names.Prefix(), "DB_NAME=" + e.dbName,
		"ADMIN_ADDR=127.0.0.1:0", "LOG_LEVEL=error", "SYNC_CHUNK_PATHS=20", "SYNC_INTERVAL=30ms",
		"SYNC_LOCK_TTL=300ms"} // a killed syncer's lock expires quickly
	env = append(append(env, e.redisEnv...), extra...)
	return testkit.Command(testkit.Binary(t, "path-syncer"), env, args...)
}

// once runs `path-syncer --once` and returns its exit code and output, waiting out the lock a killed
// syncer may have left.
func (e *env) once(t *testing.T, extra ...string) (int, string) {
	t.Helper()
	for range 5 {
		testkit.Wait(t, 10*time.Second, func() bool { return e.lockHolder(t) == "" }, "the sync lock is released")
		code, out := e.onceRaw(t, extra...)
		if !strings.Contains(out, ErrLocked.Error()) {
			return code, out
		}
	}
	t.Fatal("the sync lock was taken again and again")
	return 0, ""
}

func (e *env) onceRaw(t *testing.T, extra ...string) (int, string) {
	t.Helper()
	cmd := e.command(t, []string{"--once"}, extra...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String()
	}
	require.NoError(t, err)
	return 0, out.String()
}

// storm INCRs random paths until stop is closed and returns how many hits it made per path.
func (e *env) storm(t *testing.T, stop chan struct{}) func() map[string]uint64 {
	t.Helper()

	var wg sync.WaitGroup
	var mu sync.Mutex
	made := map[string]uint64{}
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 11))
			local := map[string]uint64{}
			defer func() {
				mu.Lock()
				for k, v := range local {
					made[k] += v
				}
				mu.Unlock()
			}()
			for {
				select {
				case <-stop:
					return
				default:
				}
				path := "/s/" + strconv.Itoa(rng.IntN(500))
				if err := e.client.Incr(context.Background(), e.hitKey(path, rng.IntN(100))).Err(); err != nil {
					t.Errorf("incr: %v", err)
					return
				}
				local[path]++
			}
		})
	}
	var once sync.Once
	finish := func() map[string]uint64 {
		once.Do(func() {
			select {
			case <-stop:
			default:
				t.Fatal("stop the storm before waiting for it")
			}
			wg.Wait()
		})
		return made
	}
	t.Cleanup(func() { // a test that fails early still stops its storm before Redis is closed
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	})
	return finish
}

func (e *env) requireExact(t *testing.T, made map[string]uint64) {
	t.Helper()
	got := e.table(t)
	for path, n := range e.left(t) {
		got[path] += n
	}
	var madeHits, gotHits uint64
	wrong := 0
	for path, n := range made {
		madeHits += n
		gotHits += got[path]
		if got[path] != n {
			wrong++
		}
	}
	require.Zero(t, wrong, "%d of %d paths wrong: %d hits made, %d counted", wrong, len(made), madeHits, gotHits)
	require.Len(t, got, len(made), "no path appeared from nowhere")
}

func TestCrashChaosExactTotals(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	e := newEnv(t)
	stop := make(chan struct{})
	wait := e.storm(t, stop)

	rng := rand.New(rand.NewPCG(5, 6))
	const kills = 20
	for range kills {
		p := testkit.Start(t, e.command(t, nil))
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond) // a random moment to kill at, not a gate
		p.Kill()
	}
	close(stop)
	made := wait()
	code, out := e.once(t, cleanRunTTL) // a clean run finishes whatever the last kill left
	require.Equal(t, 0, code, out)
	e.requireExact(t, made)
	var hits uint64
	for _, n := range made {
		hits += n
	}
	rows, err := e.paths.All(context.Background())
	require.NoError(t, err)
	t.Logf("%d hits on %d paths, %d SIGKILLs: exact", hits, len(rows), kills)
}

func TestFaultPointsAroundTheCommit(t *testing.T) {
	for _, fault := range []string{"after_move:1", "after_move:3", "after_commit:1", "after_commit:3"} {
		t.Run(fault, func(t *testing.T) {
			e := newEnv(t)
			stop := make(chan struct{})
			wait := e.storm(t, stop)
			// Enough counters for three chunks of SYNC_CHUNK_PATHS=20, so that every fault point is reached.
			testkit.Wait(t, 10*time.Second, func() bool { return len(e.left(t)) >= 100 }, "the storm makes counters")
			code, out := e.once(t, "ADLY_FAULT="+fault)
			require.Equal(t, 3, code, "exited at the fault point: %s", out)
			pending, err := e.hits.Pending(context.Background())
			require.NoError(t, err)
			require.NotEmpty(t, pending, "the crash left a staged chunk behind")
			testkit.Wait(t, 10*time.Second, func() bool { return len(e.left(t)) > 0 }, "hits arrive after the crash")
			close(stop)
			made := wait()
			code, out = e.once(t, cleanRunTTL)
			require.Equal(t, 0, code, out)
			require.Regexp(t, `Finished [1-9][0-9]* chunks left by an interrupted sync`, out)
			e.requireExact(t, made)
		})
	}
}

func TestOnceReportsAndExitCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	patient := "SYNC_LOCK_TTL=30s" // a slow machine must not lose the lock here: this test is about the report
	require.NoError(t, e.client.Set(ctx, e.names.HitKey("/a"), 2, 0).Err())
	require.NoError(t, e.client.Set(ctx, e.names.HitKey("/b"), 1, 0).Err())
	code, out := e.once(t, patient)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Synced 2 paths")

	require.NoError(t, e.client.Set(ctx, e.names.HitKey("/c"), "x", 0).Err())
	require.NoError(t, e.client.Set(ctx, e.names.HitKey("/d"), 4, 0).Err())
	code, out = e.once(t, patient)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "Synced 1 paths")
	require.Contains(t, out, `Errors: 1`)
	require.Contains(t, out, `is not a non-negative integer`)

	code, out = e.once(t, "ANALYTICS_SYNC_FREQUENCY=soon")
	require.Equal(t, 2, code)
	require.Contains(t, out, `ANALYTICS_SYNC_FREQUENCY="soon" is not a valid integer`)
}

// SIGTERM during the daemon: the sync in progress finishes and the process exits 0.
func TestDaemonStopsCleanly(t *testing.T) {
	e := newEnv(t)
	stop := make(chan struct{})
	wait := e.storm(t, stop)
	p := testkit.Start(t, e.command(t, nil))
	testkit.Wait(t, 10*time.Second, func() bool { return len(e.table(t)) > 0 }, "the daemon syncs")
	p.Stop(10 * time.Second)
	close(stop)
	made := wait()
	pending, err := e.hits.Pending(context.Background())
	require.NoError(t, err)
	require.Empty(t, pending, "nothing left half-synced")
	require.NotEmpty(t, e.table(t))
	e.requireExact(t, made)
}
