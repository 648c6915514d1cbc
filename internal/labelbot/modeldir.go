package labelbot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/modelsync/modelsync/internal/registry"
)

// ModelInfo is what a model folder records besides the trained classifier.
type ModelInfo struct {
	// ID names the model; DefaultID makes one when it is empty.
	ID      string
	Created time.Time
	Lineage registry.Lineage
	// TrainingSeconds, when set, is recorded in the metrics' extra figures and the report.
	TrainingSeconds float64
}

// DefaultID names a model by its creation time and the digest of its classifier.
func DefaultID(created time.Time, classifier []byte) string {
	sum := sha256.Sum256(classifier)
	return fmt.Sprintf("labelbot-%s-%s", created.UTC().Format("20060102-150405"), hex.EncodeToString(sum[:4]))
}

// WriteModelDir writes the model folder that the registry publishes: ClassifierFile,
// MetricsFile, ReportFile, and model.json last, so that a folder with a manifest is always complete.
// It refuses a folder that already holds a manifest.
func WriteModelDir(dir string, res *TrainResult, info ModelInfo) (*registry.Model, error) {
	manifestPath := filepath.Join(dir, registry.ManifestName)
	if _, err := os.Stat(manifestPath); err == nil {
		return nil, fmt.Errorf("failed to write model folder: %s already exists", manifestPath)
	}
	classifier, err := res.Classifier.Marshal()
	if err != nil {
		return nil, err
	}
	if info.Created.IsZero() {
		info.Created = time.Now()
	}
	info.Created = info.Created.UTC().Truncate(time.Second)
	if info.ID == "" {
		info.ID = DefaultID(info.Created, classifier)
	}
	if err := registry.ValidateID(info.ID); err != nil {
		return nil, fmt.Errorf("failed to write model folder: %w", err)
	}
	metrics := res.Metrics
	metrics.Extra = map[string]float64{}
	for k, v := range res.Metrics.Extra {
		metrics.Extra[k] = v
	}
	if info.TrainingSeconds > 0 {
		metrics.Extra["trainingSeconds"] = info.TrainingSeconds
	}
	if info.Lineage.Report == "" {
		info.Lineage.Report = ReportFile
	}
	report, err := RenderReport(ReportData{
		ID: info.ID, Created: info.Created, Target: metrics.Extra["targetPrecision"],
		TrainingSeconds: info.TrainingSeconds, Split: res.Split, Metrics: metrics,
	})
	if err != nil {
		return nil, err
	}
	m := &registry.Model{
		ID: info.ID, DisplayName: "labelbot issue classifier", Created: info.Created,
		Metrics: metrics, Lineage: info.Lineage, Files: []string{ClassifierFile, MetricsFile, ReportFile},
	}
	metricsJSON, err := json.MarshalIndent(metrics, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("failed to encode %s: %w", MetricsFile, err)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("failed to encode %s: %w", registry.ManifestName, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("failed to create model folder: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{ClassifierFile, classifier}, {MetricsFile, append(metricsJSON, '\n')}, {ReportFile, report},
		{registry.ManifestName, append(manifest, '\n')},
	} {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// writeFileAtomic writes data to a temporary file next to path and renames it into place.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}

// LoadedModel is a model read back from a folder: its manifest and its classifier.
type LoadedModel struct {
	Manifest   registry.Model
	Classifier *Classifier
}

// loadModel reads a model folder through read (a file system or a bucket). When wantID is
// set, the manifest must carry that id.
func loadModel(read func(name string) ([]byte, error), wantID string) (*LoadedModel, error) {
	raw, err := read(registry.ManifestName)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", registry.ManifestName, err)
	}
	var lm LoadedModel
	if err := json.Unmarshal(raw, &lm.Manifest); err != nil {
		return nil, fmt.Errorf("failed to decode %s: %w", registry.ManifestName, err)
	}
	if err := registry.ValidateID(lm.Manifest.ID); err != nil {
		return nil, fmt.Errorf("invalid %s: field id: %w", registry.ManifestName, err)
	}
	if wantID != "" && lm.Manifest.ID != wantID {
		return nil, fmt.Errorf("invalid %s: field id is %q, want %q", registry.ManifestName, lm.Manifest.ID, wantID)
	}
	raw, err = read(ClassifierFile)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", ClassifierFile, err)
	}
	if lm.Classifier, err = UnmarshalClassifier(raw); err != nil {
		return nil, err
	}
	return &lm, nil
}

// LoadModelDir reads the model folder dir.
func LoadModelDir(dir, wantID string) (*LoadedModel, error) {
	fsys := os.DirFS(dir)
	lm, err := loadModel(func(name string) ([]byte, error) { return fs.ReadFile(fsys, name) }, wantID)
	if err != nil {
		return nil, fmt.Errorf("failed to load model from %s: %w", dir, err)
	}
	return lm, nil
}
