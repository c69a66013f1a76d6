package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPHPSoapCompression drives the built binary with PHP's SoapClient configured for compression
// (SOAP_COMPRESSION_GZIP or SOAP_COMPRESSION_DEFLATE, with SOAP_COMPRESSION_ACCEPT): compressed requests to
// TokenManagerService and LicenseService are answered, a large answer comes back gzipped and is decoded by
// SoapClient, and a compressed request beyond --max-body-bytes is refused with a fault.
func TestPHPSoapCompression(t *testing.T) {
	t.Parallel()
	needServer(t)
	php, err := exec.LookPath("php")
	if err != nil {
		skipOrFatal(t, "php is not installed; install it with: apt-get install -y php-cli php-soap")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, php, "-r", `exit(class_exists("SoapClient") && function_exists("gzencode") ? 0 : 1);`).CombinedOutput(); err != nil {
		skipOrFatal(t, "PHP has no SoapClient or zlib (%v: %s); install them with: apt-get install -y php-soap", err, bytes.TrimSpace(out))
	}
	srv := startServer(t)
	product, _ := setupVendorProduct(t, srv)

	run, cancelRun := context.WithTimeout(context.Background(), toolTimeout)
	defer cancelRun()
	cmd := exec.CommandContext(run, php, filepath.Join(repoRoot, "testdata", "interop", "php_soap_compression.php"),
		srv.URL, adminUser, strconv.FormatInt(product.ID, 10))
	cmd.Dir = repoRoot
	cmd.Env = childEnv("TM_PASSWORD=" + srv.AdminPassword)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var rep struct {
		PHP    string `json:"php"`
		OK     bool   `json:"ok"`
		Checks []struct {
			Name   string          `json:"name"`
			OK     bool            `json:"ok"`
			Detail json.RawMessage `json:"detail"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("no JSON report (%v; run: %v)\nstdout:\n%s\nstderr:\n%s", err, runErr, stdout.String(), stderr.String())
	}
	t.Logf("PHP %s, %d checks", rep.PHP, len(rep.Checks))
	if runErr != nil || !rep.OK || len(rep.Checks) < 10 {
		var details []string
		for _, c := range rep.Checks {
			if !c.OK {
				details = append(details, fmt.Sprintf("  FAILED %s: %s", c.Name, c.Detail))
			}
		}
		t.Fatalf("PHP SoapClient reported failures (exit: %v, %d checks):\n%s\nstderr:\n%s", runErr, len(rep.Checks),
			strings.Join(details, "\n"), stderr.String())
	}
}
