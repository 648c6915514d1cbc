// Package lambda is the lambda server: HTTP routes that answer the NeedsSync protocol for
// ModelSyncs — trainers (/needsTrain: is the newest model too old?) and deployers
// (/needsSync: does git name an older model than the registry's newest?).
package lambda

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/modelsync/modelsync/fn/set-automl-model/setmodel"
)

// Route kinds.
const (
	KindTrainer  = "trainer"
	KindDeployer = "deployer"
)

// Defaults applied by Config.Default.
const (
	DefaultSyncPeriod      = time.Minute
	DefaultRetrainInterval = 24 * time.Hour
	DefaultTrainingTimeout = 6 * time.Hour
	DefaultRepairPeriod    = 5 * time.Minute
)

// Config is the server configuration: the repos to keep fresh and the routes to serve. It
// is read from a YAML file (--config) or built from flags for a single trainer and deployer.
type Config struct {
	// Registry is the default registry URL of the routes.
	Registry string `json:"registry,omitempty"`
	// RegistryRepairPeriod is how often the newest-model pointer of each registry is checked
	// against the index entries (see registry.SyncPointer). Zero disables it.
	RegistryRepairPeriod *metav1.Duration `json:"registryRepairPeriod,omitempty"`
	// Repos are the git checkouts deployers read.
	Repos []RepoConfig `json:"repos,omitempty"`
	// Routes are the lambdas, one HTTP path each.
	Routes []RouteConfig `json:"routes"`
}

// RepoConfig is one git checkout: either a directory kept fresh by a git-sync sidecar (Dir)
// or a remote the server fetches itself (URL, Branch, SyncPeriod).
type RepoConfig struct {
	Name string `json:"name"`
	// Dir is a checkout maintained by someone else (git-sync's link); read as is.
	Dir string `json:"dir,omitempty"`
	// URL is a remote to clone and fetch (shallow) into the server's work dir.
	URL string `json:"url,omitempty"`
	// Branch to follow (default main).
	Branch string `json:"branch,omitempty"`
	// SyncPeriod is the fetch interval (default 1m).
	SyncPeriod *metav1.Duration `json:"syncPeriod,omitempty"`
}

// RouteConfig is one lambda.
type RouteConfig struct {
	// Path is the HTTP path, e.g. /needsSync or /label-bot/needsTrain.
	Path string `json:"path"`
	// Kind is trainer or deployer.
	Kind string `json:"kind"`
	// Registry overrides Config.Registry for this route.
	Registry string          `json:"registry,omitempty"`
	Trainer  *TrainerConfig  `json:"trainer,omitempty"`
	Deployer *DeployerConfig `json:"deployer,omitempty"`
}

// TrainerConfig are the options of a trainer route.
type TrainerConfig struct {
	// Key names the trainer's in-progress marker in the registry (default: the path).
	Key string `json:"key,omitempty"`
	// RetrainInterval: train when the newest model is at least this old (default 24h).
	RetrainInterval *metav1.Duration `json:"retrainInterval,omitempty"`
	// TrainingTimeout: a training that has not published by then no longer blocks (default 6h).
	TrainingTimeout *metav1.Duration `json:"trainingTimeout,omitempty"`
}

// DeployerConfig are the options of a deployer route.
type DeployerConfig struct {
	// Repo is the name of an entry of Config.Repos.
	Repo string `json:"repo"`
	// Path is the package inside the checkout that holds the ConfigMap (default: the root).
	Path string `json:"path,omitempty"`
	// Selector picks the value that names the deployed model with the selection logic of
	// the set-automl-model function (ConfigMap name/namespace/key, or a marker comment).
	Selector setmodel.Selector `json:"selector,omitempty"`
}

// LoadConfig reads a YAML config file; unknown fields are errors.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read config %s: %w", path, err)
	}
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("failed to parse config %s: %w", path, err)
	}
	c.Default()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config %s: %w", path, err)
	}
	return &c, nil
}

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

// Default fills the defaults in place.
func (c *Config) Default() {
	if c.RegistryRepairPeriod == nil {
		c.RegistryRepairPeriod = dur(DefaultRepairPeriod)
	}
	for i := range c.Repos {
		r := &c.Repos[i]
		if r.URL != "" && r.Branch == "" {
			r.Branch = "main"
		}
		if r.URL != "" && r.SyncPeriod == nil {
			r.SyncPeriod = dur(DefaultSyncPeriod)
		}
	}
	for i := range c.Routes {
		rt := &c.Routes[i]
		if rt.Registry == "" {
			rt.Registry = c.Registry
		}
		if t := rt.Trainer; t != nil {
			if t.Key == "" {
				t.Key = rt.Path
			}
			if t.RetrainInterval == nil {
				t.RetrainInterval = dur(DefaultRetrainInterval)
			}
			if t.TrainingTimeout == nil {
				t.TrainingTimeout = dur(DefaultTrainingTimeout)
			}
		}
	}
}

var repoName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$`)

// Validate checks a defaulted config; the error names the offending field.
func (c *Config) Validate() error {
	var errs []error
	repos := map[string]bool{}
	for i, r := range c.Repos {
		f := fmt.Sprintf("repos[%d]", i)
		switch {
		case !repoName.MatchString(r.Name):
			errs = append(errs, fmt.Errorf("%s.name %q must be lower-case letters, digits, '-', '_' or '.'", f, r.Name))
		case repos[r.Name]:
			errs = append(errs, fmt.Errorf("%s.name %q is used twice", f, r.Name))
		}
		repos[r.Name] = true
		switch {
		case (r.Dir == "") == (r.URL == ""):
			errs = append(errs, fmt.Errorf("%s: set exactly one of dir (git-sync checkout) and url (fetched by the server)", f))
		case r.URL != "" && r.SyncPeriod.Duration <= 0:
			errs = append(errs, fmt.Errorf("%s.syncPeriod must be positive", f))
		}
	}
	if len(c.Routes) == 0 {
		errs = append(errs, errors.New("routes: at least one route is required"))
	}
	paths := map[string]bool{}
	for i, rt := range c.Routes {
		f := fmt.Sprintf("routes[%d]", i)
		switch {
		case !strings.HasPrefix(rt.Path, "/") || strings.ContainsAny(rt.Path, " {}"):
			errs = append(errs, fmt.Errorf("%s.path %q must be an absolute URL path", f, rt.Path))
		case reservedPaths[rt.Path]:
			errs = append(errs, fmt.Errorf("%s.path %q is reserved", f, rt.Path))
		case paths[rt.Path]:
			errs = append(errs, fmt.Errorf("%s.path %q is used twice", f, rt.Path))
		}
		paths[rt.Path] = true
		if rt.Registry == "" {
			errs = append(errs, fmt.Errorf("%s.registry: no registry URL (set it on the route or at the top)", f))
		}
		switch rt.Kind {
		case KindTrainer:
			if rt.Trainer == nil || rt.Deployer != nil {
				errs = append(errs, fmt.Errorf("%s: a trainer route needs trainer options and no deployer options", f))
			} else if rt.Trainer.RetrainInterval.Duration <= 0 || rt.Trainer.TrainingTimeout.Duration <= 0 {
				errs = append(errs, fmt.Errorf("%s.trainer: retrainInterval and trainingTimeout must be positive", f))
			}
		case KindDeployer:
			switch {
			case rt.Deployer == nil || rt.Trainer != nil:
				errs = append(errs, fmt.Errorf("%s: a deployer route needs deployer options and no trainer options", f))
			case !repos[rt.Deployer.Repo]:
				errs = append(errs, fmt.Errorf("%s.deployer.repo %q is not one of repos[].name", f, rt.Deployer.Repo))
			case strings.HasPrefix(rt.Deployer.Path, "/") || strings.Contains(rt.Deployer.Path, ".."):
				errs = append(errs, fmt.Errorf("%s.deployer.path %q must be relative to the checkout", f, rt.Deployer.Path))
			default:
				if err := rt.Deployer.Selector.Validate(); err != nil {
					errs = append(errs, fmt.Errorf("%s.deployer.%w", f, err))
				}
			}
		default:
			errs = append(errs, fmt.Errorf("%s.kind %q is not one of %s, %s", f, rt.Kind, KindTrainer, KindDeployer))
		}
	}
	return errors.Join(errs...)
}

var reservedPaths = map[string]bool{"/": true, "/healthz": true, "/readyz": true, "/metrics": true}
