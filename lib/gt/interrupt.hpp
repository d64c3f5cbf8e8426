// gt/interrupt: SIGINT as a flag the rest of the program can poll.
//
// The first SIGINT sets the flag (long operations notice it, stop taking new work and report what
// state they left things in); a second SIGINT terminates the process at once with the default
// action, so a user is never stuck. An operation that can end its work at once and still report
// it (bulk create: in-flight items become "unknown") raises that threshold with
// set_interrupts_before_exit(3): the second SIGINT is then only counted, and the third kills.
#pragma once

namespace gt {

// Installs the handler. Call once from main(); tests never call it.
void install_interrupt_handler();

// True once SIGINT arrived (or request_interrupt() was called).
bool interrupted();

// SIGINTs received so far (request_interrupt() counts as one).
int interrupt_count();

// The SIGINT that terminates the process with the default action: 2 (the default) or more.
void set_interrupts_before_exit(int n);

// Sets the flag by hand; for tests and for code paths that abort on purpose.
void request_interrupt();
void clear_interrupt();

}  // namespace gt
