package plugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	automlv1alpha1 "github.com/modelsync/modelsync/api/v1alpha1"
	"github.com/modelsync/modelsync/internal/registry"
)

const (
	// defaultModelKey is the ConfigMap key (and the deploy pipeline's param) that names the model.
	defaultModelKey = "automl-model"
	// deployModelParam is the param of update-model-pr that carries the model id.
	deployModelParam = "automl-model"
	// registryParam is the param of the training pipelines that carries the registry URL.
	registryParam = "registry"
)

// LineageOptions are the options of `kubectl modelsync lineage`.
type LineageOptions struct {
	*Common

	Model     string
	Namespace string
	ConfigMap string
	Key       string
	Registry  string
	Output    string

	// registryFrom is the ModelSync whose "registry" param gave the registry URL, if any.
	registryFrom string
}

func newLineageCommand(common *Common) *cobra.Command {
	o := &LineageOptions{Common: common}
	cmd := &cobra.Command{
		Use:   "lineage [MODEL]",
		Short: "Show where a model came from: ConfigMap, deploy run, model, training run, ModelSyncs",
		Long: `lineage prints the chain behind a model, newest link first: the ConfigMap that names it on
the cluster and the git commit it was applied from; the deploy run that proposed it (branch
commit, push, pull request) and the check that asked for that run; the model's manifest in the
registry (metrics, data snapshot, files, report); the training run named by the manifest and the
check that asked for it; and the trainer and deployer ModelSyncs.

Without MODEL it follows the deployed model: the value of --key in the ConfigMap given by
--configmap, or in the only ConfigMap of the namespace that has that key. The registry is
--registry, or the "registry" param of a ModelSync's pipelineRunTemplate in the namespace.

A link that cannot be followed (a run deleted by the history limits, a model never deployed)
is shown as "(not found: why)" and the rest of the chain is still printed. The command fails
when it cannot tell which model to follow or which registry to read, and, after printing, when
the model is not in the registry. -o json and -o yaml print the same chain as one object.`,
		Example: `  kubectl modelsync lineage -n label-bot-prod
  kubectl modelsync lineage labelbot-20261128-2301 -n label-bot-prod -o json
  kubectl modelsync lineage --configmap label-bot --registry gs://models -n label-bot-prod`,
		Args: cobra.MaximumNArgs(1),
		RunE: runE(o),
	}
	f := cmd.Flags()
	f.StringVar(&o.ConfigMap, "configmap", "", "ConfigMap that names the deployed model (default: the only one with --key).")
	f.StringVar(&o.Key, "key", defaultModelKey, "ConfigMap key that holds the model id.")
	f.StringVar(&o.Registry, "registry", "", "Model registry URL (default: the \"registry\" param of a ModelSync in the namespace).")
	f.StringVarP(&o.Output, "output", "o", "", "Output format: text (the default), json or yaml.")
	return cmd
}

// Complete fills in the model and the namespace.
func (o *LineageOptions) Complete(args []string) error {
	if len(args) == 1 {
		o.Model = args[0]
	}
	var err error
	o.Namespace, err = o.defaultNamespace()
	return err
}

// Validate checks the flags.
func (o *LineageOptions) Validate() error {
	if o.Key == "" {
		return errors.New("--key must not be empty")
	}
	if o.Model != "" {
		if err := registry.ValidateID(o.Model); err != nil {
			return fmt.Errorf("invalid MODEL: %w", err)
		}
	}
	return validateOutput(o.Output, "text", "json", "yaml")
}

// Run follows the chain: the ConfigMap (one get or list), the ModelSyncs (one list), the runs
// (one list, plus a get for a training run elsewhere), and the model's manifest in the registry.
func (o *LineageOptions) Run(ctx context.Context) error {
	l := &Lineage{Namespace: o.Namespace, Deployed: ConfigMapLink{Key: o.Key}}
	if err := o.findConfigMap(ctx, l); err != nil {
		return err
	}
	syncs, syncsErr := o.clients.listModelSyncs(ctx, o.Namespace, metav1.ListOptions{})
	var err error
	if l.Registry, o.registryFrom, err = o.registryURL(syncs, syncsErr); err != nil {
		return err
	}
	runs, runsErr := o.clients.dynamic.Resource(pipelineRunsGVR).Namespace(o.Namespace).
		List(ctx, metav1.ListOptions{LabelSelector: automlv1alpha1.LabelModelSync})
	if runsErr != nil {
		runsErr = runError(runsErr, "list", o.Namespace, "")
	}
	l.DeployRun = deployRun(l.Model, runs, runsErr)
	modelErr := o.readManifest(ctx, l)
	l.TrainingRun = o.trainingRun(ctx, l, runs, runsErr)
	l.ModelSyncs = o.modelSyncs(ctx, l, syncs, syncsErr)

	if err := o.print(l); err != nil {
		return err
	}
	if modelErr != nil {
		return &ExitError{Code: 1, Err: modelErr}
	}
	return nil
}

// findConfigMap sets l.Model and l.Deployed: the model from the ConfigMap when no MODEL is
// given (an error if that is ambiguous or impossible), else the ConfigMap that holds MODEL.
func (o *LineageOptions) findConfigMap(ctx context.Context, l *Lineage) error {
	l.Model = o.Model
	cms := o.clients.kube.CoreV1().ConfigMaps(o.Namespace)
	if o.ConfigMap != "" {
		cm, err := cms.Get(ctx, o.ConfigMap, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) {
				return fmt.Errorf("configmap %q not found in namespace %q", o.ConfigMap, o.Namespace)
			}
			return fmt.Errorf("failed to get configmap %q in namespace %q: %w", o.ConfigMap, o.Namespace, err)
		}
		value, ok := cm.Data[o.Key]
		switch {
		case l.Model == "" && (!ok || value == ""):
			return fmt.Errorf("configmap %q has no key %q: pass the model id (kubectl modelsync lineage MODEL) or --key", cm.Name, o.Key)
		case l.Model == "":
			l.Model = value
		case value != l.Model:
			l.Deployed.Missing = fmt.Sprintf("not deployed: configmap %s holds %s=%s", cm.Name, o.Key, quoteEmpty(value))
			return nil
		}
		setConfigMap(&l.Deployed, cm, o.Key)
		return nil
	}

	list, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		err = fmt.Errorf("failed to list ConfigMaps in namespace %q: %w", o.Namespace, err)
		if l.Model == "" {
			return err
		}
		l.Deployed.Missing = err.Error()
		return nil
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	var holders []*corev1.ConfigMap
	for i := range items {
		if v := items[i].Data[o.Key]; v != "" && (l.Model == "" || v == l.Model) {
			holders = append(holders, &items[i])
		}
	}
	switch {
	case len(holders) == 0 && l.Model == "":
		return fmt.Errorf("no ConfigMap in namespace %q has the key %q: pass the model id (kubectl modelsync lineage MODEL), --configmap or --key", o.Namespace, o.Key)
	case len(holders) == 0:
		l.Deployed.Missing = fmt.Sprintf("not deployed: no ConfigMap in namespace %s has %s=%s", o.Namespace, o.Key, l.Model)
		return nil
	case len(holders) > 1 && l.Model == "":
		var names []string
		for _, cm := range holders {
			names = append(names, fmt.Sprintf("%s (%s)", cm.Name, cm.Data[o.Key]))
		}
		return fmt.Errorf("several ConfigMaps in namespace %q have the key %q: %s: pass --configmap NAME or the model id",
			o.Namespace, o.Key, strings.Join(names, ", "))
	}
	l.Model = holders[0].Data[o.Key]
	setConfigMap(&l.Deployed, holders[0], o.Key)
	return nil
}

func setConfigMap(link *ConfigMapLink, cm *corev1.ConfigMap, key string) {
	link.Name = cm.Name
	link.Value = cm.Data[key]
	link.SourceCommit = cm.Annotations[automlv1alpha1.AnnotationSourceCommit]
}

// quoteEmpty quotes an empty value so that it shows.
func quoteEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// registryURL is --registry, or the one registry that the ModelSyncs of the namespace name in
// their templates' "registry" param; from names the ModelSync it was read from ("" for the flag).
func (o *LineageOptions) registryURL(syncs *automlv1alpha1.ModelSyncList, syncsErr error) (url, from string, err error) {
	if o.Registry != "" {
		return o.Registry, "", nil
	}
	if syncsErr != nil {
		return "", "", fmt.Errorf("no --registry given, and %w", syncsErr)
	}
	var urls, found []string
	for i := range syncs.Items {
		u := templateParams(&syncs.Items[i])[registryParam]
		if u != "" && !slices.Contains(urls, u) {
			urls = append(urls, u)
			found = append(found, fmt.Sprintf("%s (modelsync %s)", u, syncs.Items[i].Name))
			from = syncs.Items[i].Name
		}
	}
	switch len(urls) {
	case 0:
		return "", "", fmt.Errorf("no model registry: pass --registry URL, or give a ModelSync in namespace %q a %q param in its pipelineRunTemplate",
			o.Namespace, registryParam)
	case 1:
		return urls[0], from, nil
	}
	return "", "", fmt.Errorf("the ModelSyncs in namespace %q name several registries: %s: pass --registry URL",
		o.Namespace, strings.Join(found, ", "))
}

// registryHint tells, after a registry error, where the URL came from: a URL that the
// pipelines reach (a path in the pod, a bucket through workload identity) may not be
// reachable from where kubectl runs.
func (o *LineageOptions) registryHint() string {
	if o.registryFrom == "" {
		return ""
	}
	return fmt.Sprintf(" (the URL is the %q param of modelsync %s: pass --registry if the registry is reachable from here by another URL)",
		registryParam, o.registryFrom)
}

// readManifest reads the model's manifest into l.Manifest; an error means the model is not
// in the registry (or the registry cannot be read), which fails the command.
func (o *LineageOptions) readManifest(ctx context.Context, l *Lineage) error {
	l.Manifest.ID = l.Model
	reg, err := registry.Open(ctx, l.Registry)
	if err != nil {
		l.Manifest.Missing = err.Error()
		return fmt.Errorf("%w%s", err, o.registryHint())
	}
	defer func() { _ = reg.Close() }()
	m, err := reg.Get(ctx, l.Model)
	if errors.Is(err, registry.ErrNotFound) {
		l.Manifest.Missing = "not in the registry"
		return fmt.Errorf("model %q is not in the registry %s", l.Model, l.Registry)
	}
	if err != nil {
		l.Manifest.Missing = err.Error()
		return fmt.Errorf("%w%s", err, o.registryHint())
	}
	l.Manifest = newModelLink(m, l.Registry)
	return nil
}

// newModelLink reads a manifest. A report named relative to the model's folder (as the
// trainers write it) is shown as a location in the registry, so it can be opened.
func newModelLink(m *registry.Model, registryURL string) ModelLink {
	link := ModelLink{
		ID:           m.ID,
		Created:      &metav1.Time{Time: m.Created},
		Micro:        m.Metrics.Micro,
		Macro:        m.Metrics.Macro,
		DataSnapshot: m.Lineage.DataSnapshot,
		CodeRevision: m.Lineage.CodeRevision,
		TrainingRun:  m.Lineage.PipelineRun,
		ModelSync:    m.Lineage.ModelSync,
		Report:       m.Lineage.Report,
	}
	if !m.Published.IsZero() {
		link.Published = &metav1.Time{Time: m.Published}
	}
	for _, f := range m.Files {
		key := registry.ModelsPrefix + m.ID + "/" + f
		link.Files = append(link.Files, key)
		if link.Report == "" && (f == "report.html" || strings.HasSuffix(f, "/report.html")) {
			link.Report = key
		}
	}
	if r := link.Report; r != "" && !strings.Contains(r, "://") && !strings.HasPrefix(r, "/") && registryURL != "" && !strings.Contains(registryURL, "?") {
		if !strings.HasPrefix(r, registry.ModelsPrefix) {
			r = registry.ModelsPrefix + m.ID + "/" + r
		}
		link.Report = strings.TrimSuffix(registryURL, "/") + "/" + r
	}
	return link
}

// modelSyncs finds the trainer (the training run's label, else the manifest's
// lineage.modelSync, else the one ModelSync with a registry param) and the deployer (the deploy
// run's label, else the one ModelSync with an automl-model param).
func (o *LineageOptions) modelSyncs(ctx context.Context, l *Lineage, syncs *automlv1alpha1.ModelSyncList, syncsErr error) []ModelSyncLink {
	byParam := func(param string) (ns, name, why string) {
		if syncsErr != nil {
			return "", "", syncsErr.Error()
		}
		var names []string
		for i := range syncs.Items {
			if _, ok := templateParams(&syncs.Items[i])[param]; ok {
				names = append(names, syncs.Items[i].Name)
			}
		}
		switch len(names) {
		case 0:
			return "", "", fmt.Sprintf("no ModelSync in namespace %s has the param %q in its pipelineRunTemplate", o.Namespace, param)
		case 1:
			return o.Namespace, names[0], ""
		}
		return "", "", fmt.Sprintf("several ModelSyncs have the param %q: %s", param, strings.Join(names, ", "))
	}
	var out []ModelSyncLink
	for _, role := range []string{"trainer", "deployer"} {
		run, param := l.TrainingRun, registryParam
		if role == "deployer" {
			run, param = l.DeployRun, deployModelParam
		}
		var ns, name, why string
		switch {
		case run.Check != nil && run.Check.ModelSync != "":
			ns, name = run.Namespace, run.Check.ModelSync
		case role == "trainer" && l.Manifest.ModelSync != "":
			ns, name = splitRef(l.Manifest.ModelSync, o.Namespace)
		default:
			ns, name, why = byParam(param)
		}
		link := ModelSyncLink{Role: role, Missing: why}
		if name != "" {
			link = o.modelSyncLink(ctx, role, ns, name, syncs)
		}
		out = append(out, link)
	}
	return out
}

func (o *LineageOptions) modelSyncLink(ctx context.Context, role, ns, name string, syncs *automlv1alpha1.ModelSyncList) ModelSyncLink {
	link := ModelSyncLink{Role: role, Name: name}
	if ns != o.Namespace {
		link.Name = ns + "/" + name
	}
	var ms *automlv1alpha1.ModelSync
	if ns == o.Namespace && syncs != nil {
		for i := range syncs.Items {
			if syncs.Items[i].Name == name {
				ms = &syncs.Items[i]
			}
		}
		if ms == nil {
			link.Missing = fmt.Sprintf("modelsync %s no longer exists", name)
			return link
		}
	} else {
		var err error
		if ms, err = o.clients.getModelSync(ctx, ns, name); err != nil {
			link.Missing = err.Error()
			return link
		}
	}
	link.NeedsSyncURL = ms.Spec.NeedsSyncURL
	link.Interval = ms.GetInterval().String()
	link.Suspended = ms.Spec.Suspend
	for _, c := range ms.Status.Conditions {
		if c.Type == automlv1alpha1.ConditionReady {
			link.Ready = c.DeepCopy()
		}
	}
	link.LastNeedsSync = ms.Status.LastNeedsSync
	return link
}

// splitRef splits "namespace/name"; a bare name is in ns.
func splitRef(ref, ns string) (string, string) {
	if before, after, ok := strings.Cut(ref, "/"); ok {
		return before, after
	}
	return ns, ref
}
