// Package predicates holds the event filters Weir controllers share.
package predicates
