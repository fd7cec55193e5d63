// Package onnx starts onnxruntime, once per process, for the packages that
// run models through it (detect, classify).
package onnx

import (
	"fmt"
	"os"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// LibraryEnv names the environment variable consulted for the onnxruntime
// library when Start is given no path.
const LibraryEnv = "IGEMOJI_ONNXRUNTIME_LIB"

// telemetryEnv turns off onnxruntime's platform telemetry. Besides having
// no business in a service, on Linux it matches GCC std::regex patterns
// against the process's command line while the environment is created, and
// their backtracking recurses once per character: a command line of some
// 30 kB (`igemoji analyze` given a thousand photos) overflows the thread's
// stack and kills the process (seen with onnxruntime 1.30.0).
const telemetryEnv = "ORT_DISABLE_TELEMETRY"

var (
	once     sync.Once
	startErr error
)

// Start loads the onnxruntime library at libPath (when empty: $LibraryEnv,
// else the dynamic loader's search for libonnxruntime.so.1) and creates the
// process-wide environment, unless something in the process already has;
// the library loaded first is then the one in use.
func Start(libPath string) error {
	once.Do(func() {
		if ort.IsInitialized() {
			return
		}
		if libPath == "" {
			libPath = os.Getenv(LibraryEnv)
		}
		if libPath == "" {
			libPath = "libonnxruntime.so.1"
		}
		if os.Getenv(telemetryEnv) == "" {
			// onnxruntime reads it with getenv, which sees this: with cgo,
			// os.Setenv also sets the C environment.
			if err := os.Setenv(telemetryEnv, "1"); err != nil {
				startErr = fmt.Errorf("start onnxruntime: %w", err)
				return
			}
		}
		ort.SetSharedLibraryPath(libPath)
		// Another package starting onnxruntime directly at the same moment
		// makes this fail with "already initialized"; the environment is
		// then there all the same.
		if err := ort.InitializeEnvironment(); err != nil && !ort.IsInitialized() {
			startErr = fmt.Errorf("start onnxruntime from %s: %w", libPath, err)
		}
	})
	return startErr
}
