package manifest

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
)

// providerTypes and receiverTypes are the types the CRDs accept.
var (
	providerTypes = notificationv1.ProviderTypes
	receiverTypes = notificationv1.ReceiverTypes
	// eventKinds are the kinds an Alert's event sources and a Receiver's resources may be.
	eventKinds = []string{"GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Kustomization", "HelmRelease"}
)

// Provider is `weir create alert-provider`.
type Provider struct {
	Meta
	Type, Channel, Username, Address string
	SecretRef, CertSecretRef         string
}

// Objects returns the Provider.
func (p Provider) Objects() ([]Object, error) {
	om, err := p.objectMeta("Provider")
	if err != nil {
		return nil, err
	}
	if !slices.Contains(providerTypes, p.Type) {
		return nil, fmt.Errorf("--type %q: want one of %s", p.Type, strings.Join(providerTypes, ", "))
	}
	if p.Address != "" {
		if _, err := parseURL("address", p.Address, "https", "http"); err != nil {
			return nil, err
		}
	}
	if p.Address == "" && p.SecretRef == "" && p.Type != notificationv1.TelegramProvider {
		return nil, errors.New("give --address, or --secret-ref naming a Secret with an `address` key")
	}
	pr := &notificationv1.Provider{ObjectMeta: om, Spec: notificationv1.ProviderSpec{
		Type: p.Type, Channel: p.Channel, Username: p.Username, Address: p.Address,
	}}
	pr.SetGroupVersionKind(notificationv1.GroupVersion.WithKind(notificationv1.ProviderKind))
	if p.SecretRef != "" {
		if err := checkName("--secret-ref", p.SecretRef); err != nil {
			return nil, err
		}
		pr.Spec.SecretRef = &meta.LocalObjectReference{Name: p.SecretRef}
	}
	if p.CertSecretRef != "" {
		if err := checkName("--cert-secret-ref", p.CertSecretRef); err != nil {
			return nil, err
		}
		pr.Spec.CertSecretRef = &meta.LocalObjectReference{Name: p.CertSecretRef}
	}
	return []Object{pr}, nil
}

// Alert is `weir create alert`.
type Alert struct {
	Meta
	ProviderRef string
	// EventSources are `Kind/name[.namespace]`; name `*` for every object of the kind.
	EventSources  []string
	EventSeverity string
	Summary       string
}

// Objects returns the Alert.
func (a Alert) Objects() ([]Object, error) {
	om, err := a.objectMeta("Alert")
	if err != nil {
		return nil, err
	}
	if a.ProviderRef == "" {
		return nil, errors.New("--provider-ref is required: the Provider, in this namespace, to send to")
	}
	if err := checkName("--provider-ref", a.ProviderRef); err != nil {
		return nil, err
	}
	if len(a.EventSources) == 0 {
		return nil, errors.New("--event-source is required, e.g. --event-source Kustomization/apps or --event-source 'GitRepository/*'")
	}
	srcs, err := parseRefs(refSpec{flag: "event-source", kinds: eventKinds, wildcard: true}, a.EventSources)
	if err != nil {
		return nil, err
	}
	switch a.EventSeverity {
	case "", notificationv1.EventSeverityInfo, notificationv1.EventSeverityError:
	default:
		return nil, fmt.Errorf("--event-severity %q: want info or error", a.EventSeverity)
	}
	al := &notificationv1.Alert{ObjectMeta: om, Spec: notificationv1.AlertSpec{
		ProviderRef: meta.LocalObjectReference{Name: a.ProviderRef}, EventSeverity: a.EventSeverity, Summary: a.Summary,
	}}
	al.SetGroupVersionKind(notificationv1.GroupVersion.WithKind(notificationv1.AlertKind))
	for _, s := range srcs {
		al.Spec.EventSources = append(al.Spec.EventSources, notificationv1.CrossNamespaceObjectReference{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace})
	}
	return []Object{al}, nil
}

// Receiver is `weir create receiver`.
type Receiver struct {
	Meta
	Type string
	// Events are the sender's event types to act on; every event when empty.
	Events []string
	// Resources are `Kind/name[.namespace]` to reconcile when a request is accepted.
	Resources []string
	SecretRef string
}

// Objects returns the Receiver.
func (r Receiver) Objects() ([]Object, error) {
	om, err := r.objectMeta("Receiver")
	if err != nil {
		return nil, err
	}
	if !slices.Contains(receiverTypes, r.Type) {
		return nil, fmt.Errorf("--type %q: want one of %s", r.Type, strings.Join(receiverTypes, ", "))
	}
	if len(r.Resources) == 0 {
		return nil, errors.New("--resource is required, e.g. --resource GitRepository/app")
	}
	res, err := parseRefs(refSpec{flag: "resource", kinds: eventKinds}, r.Resources)
	if err != nil {
		return nil, err
	}
	if r.SecretRef == "" {
		return nil, errors.New("--secret-ref is required: a Secret with a `token` key, which authenticates the sender")
	}
	if err := checkName("--secret-ref", r.SecretRef); err != nil {
		return nil, err
	}
	rc := &notificationv1.Receiver{ObjectMeta: om, Spec: notificationv1.ReceiverSpec{
		Type: r.Type, Events: r.Events, SecretRef: meta.LocalObjectReference{Name: r.SecretRef},
	}}
	rc.SetGroupVersionKind(notificationv1.GroupVersion.WithKind(notificationv1.ReceiverKind))
	for _, x := range res {
		rc.Spec.Resources = append(rc.Spec.Resources, notificationv1.CrossNamespaceObjectReference{Kind: x.Kind, Name: x.Name, Namespace: x.Namespace})
	}
	return []Object{rc}, nil
}
