package testkit

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// ClusterNode is one node of the test cluster as the cluster sees it now (CLUSTER NODES): roles change
// when a master fails over, so ask ClusterNodes again after a kill.
type ClusterNode struct {
	ID       string
	Addr     string // 127.0.0.1:port
	Port     int
	BusPort  int // the cluster bus's port
	Master   bool
	MasterID string // a replica's master; "" for a master
	// Slots are a master's slot ranges (first and last, inclusive).
	Slots [][2]uint16
	// Failed is true when the node is flagged fail (or suspected: pfail) or not connected.
	Failed bool
	// PID is the node's process, from its pid file; 0 when the cluster was not started by
	// scripts/lib/cluster.sh.
	PID int

	t   testing.TB
	dir string // the node's folder: redis.conf, redis.pid
}

// Role is "master" or "replica".
func (n *ClusterNode) Role() string {
	if n.Master {
		return "master"
	}
	return "replica"
}

// Owns reports whether the node is the master of slot.
func (n *ClusterNode) Owns(slot uint16) bool {
	for _, r := range n.Slots {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

// ClusterNodes lists the test cluster's nodes, masters first, as the first seed that answers sees them.
func ClusterNodes(t testing.TB) []*ClusterNode {
	t.Helper()
	e := loadClusterEnv(t)
	cfg := ClusterConfig(t)
	var lastErr error
	for _, addr := range e.Addrs {
		c := redis.NewClient(&redis.Options{Addr: addr, Password: cfg.Password, MaxRetries: -1, DialTimeout: time.Second})
		text, err := c.ClusterNodes(context.Background()).Result()
		_ = c.Close()
		if err != nil {
			lastErr = err
			continue
		}
		nodes, err := parseClusterNodes(text)
		require.NoError(t, err)
		var masters, replicas []*ClusterNode
		for _, n := range nodes {
			n.t = t
			if e.Dir != "" {
				n.dir = filepath.Join(e.Dir, strconv.Itoa(n.Port))
				n.PID = readPID(filepath.Join(n.dir, "redis.pid"))
			}
			if n.Master {
				masters = append(masters, n)
			} else {
				replicas = append(replicas, n)
			}
		}
		return append(masters, replicas...)
	}
	t.Fatalf("no node of the test cluster %v answers CLUSTER NODES: %v", e.Addrs, lastErr)
	return nil
}

// ClusterMasterOf is the master that owns slot (keyspace.Slot of a key) now.
func ClusterMasterOf(t testing.TB, slot uint16) *ClusterNode {
	t.Helper()
	for _, n := range ClusterNodes(t) {
		if n.Master && !n.Failed && n.Owns(slot) {
			return n
		}
	}
	t.Fatalf("no master of the test cluster owns slot %d", slot)
	return nil
}

// parseClusterNodes reads CLUSTER NODES: "<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent>
// <pong-recv> <config-epoch> <link-state> <slot>...", slots as "a-b" or "a" (slots being moved, "[a->-id]",
// are left out).
func parseClusterNodes(text string) ([]*ClusterNode, error) {
	var nodes []*ClusterNode
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("cluster nodes: short line %q", line)
		}
		addr, bus, _ := strings.Cut(f[1], "@")
		bus, _, _ = strings.Cut(bus, ",")
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("cluster nodes: address of %q: %w", line, err)
		}
		n := &ClusterNode{ID: f[0], Addr: addr, Failed: f[7] != "connected"}
		n.Port, err = strconv.Atoi(port)
		if err == nil {
			n.BusPort, err = strconv.Atoi(bus)
		}
		if err != nil {
			return nil, fmt.Errorf("cluster nodes: ports of %q: %w", line, err)
		}
		for _, flag := range strings.Split(f[2], ",") {
			switch flag {
			case "master":
				n.Master = true
			case "fail", "fail?", "handshake", "noaddr":
				n.Failed = true
			}
		}
		if !n.Master && f[3] != "-" {
			n.MasterID = f[3]
		}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				continue
			}
			lo, hi, found := strings.Cut(s, "-")
			if !found {
				hi = lo
			}
			a, err1 := strconv.ParseUint(lo, 10, 16)
			b, err2 := strconv.ParseUint(hi, 10, 16)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("cluster nodes: slots %q of %q", s, line)
			}
			n.Slots = append(n.Slots, [2]uint16{uint16(a), uint16(b)})
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// Client is a plain client of this node alone (for commands about its own data, such as XINFO STREAM of a
// key it owns), closed when the test ends.
func (n *ClusterNode) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: n.Addr, Password: ClusterConfig(n.t).Password, MaxRetries: -1})
	n.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Alive reports whether the node's process runs (a zombie does not).
func (n *ClusterNode) Alive() bool { return processAlive(n.PID) }

func processAlive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command, which is in parentheses and may hold spaces.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

// Kill stops the node's process with SIGKILL and waits until it is gone and its ports are closed. The test
// must hold the cluster exclusively (ClusterExclusive). A node still down when the test ends is started
// again then, and the cluster waited for until it is whole.
func (n *ClusterNode) Kill() {
	n.t.Helper()
	if _, ok := exclusive.Load(n.t); !ok {
		n.t.Fatal("killing a cluster node needs ClusterExclusive: other tests share the cluster")
	}
	require.NotZero(n.t, n.PID, "the pid of the node at %s", n.Addr)
	require.NoError(n.t, syscall.Kill(n.PID, syscall.SIGKILL), "kill the node at %s", n.Addr)
	// The pid is gone (or a zombie) as soon as the main thread has exited; the sockets close once the
	// last of redis-server's threads has, a little later.
	bus := net.JoinHostPort("127.0.0.1", strconv.Itoa(n.BusPort))
	Wait(n.t, 10*time.Second, func() bool { return !n.Alive() && !listening(n.Addr) && !listening(bus) },
		"the node at %s dies", n.Addr)
	n.t.Cleanup(func() {
		if !n.Alive() {
			n.Restart()
		}
		WaitClusterWhole(n.t, 60*time.Second)
	})
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// Restart starts the node's process again from its redis.conf (the same port, node ID and cluster view,
// from nodes.conf) and waits until it answers. The process runs in a session of its own, so that it
// outlives the test process like the other nodes (scripts/lib/cluster.sh stops it by its pid file). It
// comes back empty: the test cluster keeps nothing on disk, so a master that comes back before its replica
// took over holds no data, and its replica then drops its copy too.
func (n *ClusterNode) Restart() {
	n.t.Helper()
	require.NotEmpty(n.t, n.dir, "restarting a node needs ADLY_TEST_CLUSTER_DIR")
	require.False(n.t, n.Alive(), "the node at %s still runs", n.Addr)
	var pid int
	var exited chan struct{}
	start := func() {
		cmd := exec.Command("redis-server", filepath.Join(n.dir, "redis.conf"))
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		require.NoError(n.t, cmd.Start(), "redis-server %s", n.dir)
		pid, exited = cmd.Process.Pid, make(chan struct{})
		go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(exited)
	}
	start()
	c := redis.NewClient(&redis.Options{Addr: n.Addr, Password: ClusterConfig(n.t).Password, MaxRetries: -1})
	defer func() { _ = c.Close() }()
	Wait(n.t, 20*time.Second, func() bool {
		select {
		case <-exited:
			start() // it found the port still taken; see Kill
			return false
		default:
		}
		info, err := c.Info(context.Background(), "server").Result()
		return err == nil && strings.Contains(info, "process_id:"+strconv.Itoa(pid)+"\r\n")
	}, "the node at %s answers again (its log: %s)", n.Addr, filepath.Join(n.dir, "redis.log"))
	n.PID = pid
}

// WaitClusterWhole waits until the test cluster is whole: all its nodes known and connected, every node's
// cluster_state ok, every master serving a replica and every replica's link to its master up.
func WaitClusterWhole(t testing.TB, timeout time.Duration) {
	t.Helper()
	var why string
	if !Within(timeout, func() bool { why = clusterNotWhole(t); return why == "" }) {
		t.Fatalf("the test cluster is not whole within %v: %s", timeout, why)
	}
}

// clusterNotWhole says what keeps the cluster from being whole, or "".
func clusterNotWhole(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	nodes := ClusterNodes(t)
	if want := len(loadClusterEnv(t).Addrs); len(nodes) != want {
		return fmt.Sprintf("%d nodes known, want %d", len(nodes), want)
	}
	for _, n := range nodes {
		if n.Failed {
			return n.Addr + " is flagged failed or not connected"
		}
		c := redis.NewClient(&redis.Options{Addr: n.Addr, Password: ClusterConfig(t).Password, MaxRetries: -1})
		state, err1 := c.ClusterInfo(ctx).Result()
		repl, err2 := c.Info(ctx, "replication").Result()
		_ = c.Close()
		switch {
		case err1 != nil || err2 != nil:
			return fmt.Sprintf("%s does not answer: %v %v", n.Addr, err1, err2)
		case !strings.Contains(state, "cluster_state:ok\r\n"):
			return n.Addr + " has cluster_state other than ok"
		case n.Master && strings.Contains(repl, "connected_slaves:0\r\n"):
			return "master " + n.Addr + " has no replica attached"
		case !n.Master && !strings.Contains(repl, "master_link_status:up\r\n"):
			return "replica " + n.Addr + " is not attached to its master"
		}
	}
	return ""
}
