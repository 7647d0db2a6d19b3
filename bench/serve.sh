# Sourced by the service benchmarks: serve_bench BIN CONFIG LOG starts
# sharelogd in the background (SPID), returns once it says "listening"
# (a store converted on open can take seconds), or shows the log and
# exits.
serve_bench() {
	"$1/sharelogd" serve --config "$2" > "$3" 2>&1 </dev/null &
	SPID=$!
	_i=0
	until grep -q listening "$3"; do
		_i=$((_i + 1)); [ $_i -lt 600 ] || { cat "$3"; exit 1; }
		sleep 0.1
	done
}
