package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// errNoMaster means no master could be found for a call's slot: nothing was sent.
var errNoMaster = errors.New("no master known for the slot")

// exec runs every script call, and sets each call's cmd (and wait). Without WaitReplicas the calls go in one
// pipeline: one round trip per node, a cluster's nodes in parallel. A call answered NOSCRIPT (Redis
// restarted and lost its script cache) was not executed, so sending it again with EVAL is safe.
func (p *Publisher) exec(ctx context.Context, calls []*scriptCall) {
	if p.opts.WaitReplicas > 0 {
		p.execWait(ctx, calls)
		return
	}
	pipe := p.client.Pipeline()
	for _, c := range calls {
		c.cmd = publishScript.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx)
	for _, c := range calls {
		if err := c.cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			c.cmd = publishScript.Eval(ctx, p.client, c.keys, c.args...)
		}
	}
}

// execWait runs every script call followed by WAIT on the same connection, so that WAIT waits for the
// replicas to have what the call wrote: WAIT counts the replicas that acknowledged every write its own
// connection made before it. A single node's pipeline is one connection. A cluster client would send a
// keyless WAIT to a node of its choosing, so each call goes instead to its slot's master as go-redis's slot
// map knows it (MasterForKey), in one pipeline per master (the calls, then one WAIT for them all), the
// masters in parallel. A master that no longer owns the slot (a failover moved it) answers MOVED and runs
// nothing: the call failed, nothing of it is stored, and the slot map is reloaded.
func (p *Publisher) execWait(ctx context.Context, calls []*scriptCall) {
	cc, ok := p.client.(*redis.ClusterClient)
	if !ok {
		p.execOnNode(ctx, p.client, calls)
		return
	}
	byNode := map[*redis.Client][]*scriptCall{}
	var nodes []*redis.Client
	for _, c := range calls {
		node, err := cc.MasterForKey(ctx, c.keys[0])
		if err != nil {
			c.cmd = redis.NewCmd(ctx)
			c.cmd.SetErr(fmt.Errorf("%w: %w", errNoMaster, err))
			continue
		}
		if _, ok := byNode[node]; !ok {
			nodes = append(nodes, node)
		}
		byNode[node] = append(byNode[node], c)
	}
	var wg sync.WaitGroup
	for _, node := range nodes {
		wg.Go(func() { p.execOnNode(ctx, node, byNode[node]) })
	}
	wg.Wait()
	for _, c := range calls {
		if err := c.cmd.Err(); err != nil && (errors.Is(err, errNoMaster) || movedSlot(err)) {
			cc.ReloadState(ctx)
			break
		}
	}
}

// execOnNode sends calls and a WAIT in one pipeline of node (one connection); calls answered NOSCRIPT are
// sent again with EVAL, and a WAIT after them.
func (p *Publisher) execOnNode(ctx context.Context, node interface{ Pipeline() redis.Pipeliner }, calls []*scriptCall) {
	pipe := node.Pipeline()
	for _, c := range calls {
		c.cmd = publishScript.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	wait := pipe.Do(ctx, "wait", p.opts.WaitReplicas, p.opts.WaitTimeout.Milliseconds())
	_, _ = pipe.Exec(ctx)
	var again []*scriptCall
	for _, c := range calls {
		c.wait = wait
		if err := c.cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			again = append(again, c)
		}
	}
	if len(again) == 0 {
		return
	}
	pipe = node.Pipeline()
	for _, c := range again {
		c.cmd = publishScript.Eval(ctx, pipe, c.keys, c.args...)
	}
	wait = pipe.Do(ctx, "wait", p.opts.WaitReplicas, p.opts.WaitTimeout.Milliseconds())
	_, _ = pipe.Exec(ctx)
	for _, c := range again {
		c.wait = wait
	}
}

// movedSlot tells a reply of a node that does not serve the slot (now): the command did not run.
func movedSlot(err error) bool {
	msg := err.Error()
	for _, p := range []string{"MOVED ", "ASK ", "CLUSTERDOWN ", "TRYAGAIN ", "READONLY "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// checkWait looks at the WAIT after each call that ran: a call is confirmed when at least WaitReplicas
// replicas acknowledged it; otherwise (fewer did within WaitTimeout, WAIT failed, or the call's reply was
// lost, so its WAIT's answer is unknown) its requests cannot be told their events will survive a failover.
func (p *Publisher) checkWait(calls []*scriptCall) {
	want := int64(p.opts.WaitReplicas)
	for _, c := range calls {
		if c.state != callRan {
			continue
		}
		var n int64
		var err error
		if c.lost || c.wait == nil {
			err = errors.New("the reply was lost")
		} else {
			n, err = c.wait.Int64()
		}
		switch {
		case err != nil:
			p.metrics.wait.WithLabelValues("unknown").Inc()
			c.err = fmt.Errorf("%w: the events were stored on the master, but whether %d replica(s) have them is not known (WAIT: %v); they may or may not survive a failover (REDIS_WAIT_REPLICAS)",
				ErrUnconfirmed, want, err)
		case n < want:
			p.metrics.wait.WithLabelValues("not_confirmed").Inc()
			c.err = fmt.Errorf("%w: the events were stored on the master, but only %d of %d replica(s) acknowledged them within %s; they may or may not survive a failover (REDIS_WAIT_REPLICAS)",
				ErrUnconfirmed, n, want, p.opts.WaitTimeout)
		default:
			p.metrics.wait.WithLabelValues("confirmed").Inc()
			continue
		}
		c.state, c.reason = callNotConfirmed, "not_replicated"
		p.failed(c, c.err)
	}
}
