package build

import (
	"context"
	"sync"
	"time"
)

// kustomize's one piece of global state a build can change is kyaml's OpenAPI schema, which a
// kustomization.yaml may replace (its openapi field); kyaml guards the schema's own
// initialisation, and the rest of a build is state of its own. So builds that leave the schema
// alone run concurrently, holding schemaLock shared, and a build that sets it holds schemaLock
// alone and resets the schema after (see runKustomize).
var schemaLock sync.RWMutex

// lockPoll is how often a build waiting for schemaLock tries again.
const lockPoll = 5 * time.Millisecond

// lockSchema takes schemaLock, shared or exclusive, waiting at most until ctx ends. It polls
// rather than blocks: a build waiting for the exclusive lock never keeps others from starting,
// as sync.RWMutex's blocking Lock would, so a build running long holding the shared lock delays
// only the rare builds that set a schema.
func lockSchema(ctx context.Context, exclusive bool) (unlock func(), err error) {
	try, unlock := schemaLock.TryRLock, schemaLock.RUnlock
	if exclusive {
		try, unlock = schemaLock.TryLock, schemaLock.Unlock
	}
	tick := time.NewTicker(lockPoll)
	defer tick.Stop()
	for !try() {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
	return unlock, nil
}

// running holds the keys of the units whose kustomize run has not returned, including runs
// their caller stopped waiting for: kustomize cannot be interrupted once it has read its input.
var running sync.Map

// claim marks key's unit as building, false when a run of it is still going. An empty key
// (a build of no named unit) is never refused.
func claim(key string) (release func(), ok bool) {
	if key == "" {
		return func() {}, true
	}
	if _, busy := running.LoadOrStore(key, struct{}{}); busy {
		return nil, false
	}
	return func() { running.Delete(key) }, true
}
