package release

import (
	"errors"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// UninstallOptions configure Uninstall.
type UninstallOptions struct {
	// Timeout bounds each Kubernetes operation (hooks, waiting).
	Timeout      time.Duration
	DisableHooks bool
	// KeepHistory keeps the release's records, marked uninstalled.
	KeepHistory bool
	// Wait waits until the release's objects are gone.
	Wait bool
	// DeletionPropagation is background, foreground or orphan.
	DeletionPropagation string
}

// Uninstall uninstalls the release. A release that does not exist is not an error.
func (r *Runner) Uninstall(o UninstallOptions) (retErr error) {
	defer countAction("uninstall", &retErr)
	done, err := r.begin()
	if err != nil {
		return err
	}
	defer done()
	a := action.NewUninstall(r.cfg)
	a.Timeout = o.Timeout
	a.DisableHooks = o.DisableHooks
	a.KeepHistory = o.KeepHistory
	a.Wait = o.Wait
	a.DeletionPropagation = o.DeletionPropagation
	a.IgnoreNotFound = true
	_, err = a.Run(r.Target.Name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil
	}
	return err
}
