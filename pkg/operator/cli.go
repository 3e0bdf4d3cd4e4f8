package operator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"adly/pkg/config"
)

const usage = `usage: adly inspect [--date YYYY-MM-DD] [--watch N] [--json] [-h|--help]
       adly replay --kind impressions|clicks --from YYYY-MM-DD

  inspect  where events are: streams, consumer groups, dead letters, path hits waiting in Redis, and
           MariaDB's counts for a day. Read-only. "adly inspect --help" says more.
  replay   recount every date from --from on, exactly (no doubling). "adly replay --help" says more.

Environment: REDIS_HOST REDIS_PORT REDIS_PASSWORD REDIS_DB REDIS_KEY_PREFIX REDIS_CLUSTER_ADDRS DB_HOST
DB_PORT DB_USER DB_PASS DB_NAME TIMEZONE LOG_LEVEL LOG_FORMAT, as the services read them.
Exit status: 0 success, 1 failure, 2 bad usage or configuration (replay: refused as impossible).
`

// ErrUsage marks a command line that cannot be run: it is a config.Usage error (exit status 2).
var ErrUsage = config.Usage(errors.New("bad usage"))

// ErrIncomplete means inspect could not reach Redis or MariaDB; the rest was still shown.
var ErrIncomplete = errors.New("no answer from Redis or MariaDB")

// usageError is a bad command line and the usage line that goes with it.
type usageError struct {
	msg, usage string
}

func (e *usageError) Error() string { return e.msg + "\n" + e.usage }
func (e *usageError) Unwrap() error { return ErrUsage }

// Main runs the operator command line args (without the program name), writing what goes wrong to stderr
// as "adly <command>: <error>". It returns nil on success; the error otherwise, for config.ExitStatus
// (usage and configuration errors, and a replay refused as impossible, are config.Usage errors).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var err error
	cmd := "adly"
	switch {
	case len(args) == 0:
		err = &usageError{msg: "a command is needed", usage: commandsUsageLine}
	case args[0] == "inspect":
		cmd, err = "adly inspect", runInspect(ctx, args[1:], stdout)
	case args[0] == "replay":
		cmd, err = "adly replay", runReplay(ctx, args[1:], stdout)
	case args[0] == "-h", args[0] == "--help", args[0] == "help":
		fmt.Fprint(stdout, usage)
	default:
		err = &usageError{msg: fmt.Sprintf("unknown command '%s'", args[0]), usage: commandsUsageLine}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
	}
	return err
}

const commandsUsageLine = "usage: adly inspect|replay [options] (adly --help says more)"

var errConfig = config.Usage(errors.New("configuration"))

// loadConfig reads the environment once.
func loadConfig() (Config, error) {
	var cfg Config
	if err := config.Load(&cfg); err != nil {
		return cfg, fmt.Errorf("%w: %w", errConfig, err)
	}
	return cfg, nil
}

// parseFlags parses args with fs, turning -h/--help into the help text on stdout (errHelp) and every other
// mistake into a usage error.
func parseFlags(fs *flag.FlagSet, args []string, help string, stdout io.Writer, usageLine string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, help)
		return errHelp
	case err != nil:
		return &usageError{msg: flagMessage(err), usage: usageLine}
	case fs.NArg() > 0:
		return &usageError{msg: fmt.Sprintf("unknown argument '%s'", fs.Arg(0)), usage: usageLine}
	}
	return nil
}

// errHelp is a help request, answered: success.
var errHelp = errors.New("help shown")

// flagMessage words the flag package's complaints as the scripts did.
func flagMessage(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Sprintf("--%s needs a value", strings.TrimPrefix(name, "-"))
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Sprintf("unknown argument '%s'", name)
	}
	return strings.TrimPrefix(msg, "flag ")
}
