# Sourced by the shell integration tests (cli, report, import): the build
# to test ($BIN), a scratch folder $D removed on exit (named after $NAME),
# pass/fail counters and the assertions. Each script ends with
# "NAME: N passed, N failed" and fails when anything did.
BIN=${BIN:-build}
D=$(mktemp -d "${TMPDIR:-/tmp}/sl-$NAME-XXXXXX")
trap 'rm -rf "$D"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect STATUS CMD...: run CMD (output in $D/out, $D/err), check its status
expect() {
	want=$1; shift
	"$@" >"$D/out" 2>"$D/err"
	got=$?
	if [ "$got" = "$want" ]; then ok; else
		bad "$* exited $got, expected $want"; cat "$D/out" "$D/err"; fi
}
# has FILE TEXT / hasnt FILE TEXT: a fixed string is (not) in the file
has() { if grep -qF -- "$2" "$1"; then ok; else bad "$1 lacks: $2"; cat "$1"; fi; }
hasnt() { if grep -qF -- "$2" "$1"; then bad "$1 has: $2"; else ok; fi; }
# same DIR1 DIR2: the two trees are byte-identical
same() { if diff -r "$1" "$2" >"$D/diff"; then ok; else
	bad "$1 and $2 differ"; head -20 "$D/diff"; fi; }
# finish: the summary line and the exit status
finish() {
	echo "$NAME: $pass passed, $fail failed"
	[ "$fail" = 0 ]
}
