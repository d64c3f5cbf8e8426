// gt/interrupt: SIGINT as a flag the rest of the program can poll.
//
// The first SIGINT sets the flag (long operations notice it, stop taking new work and report what
// state they left things in); a second SIGINT terminates the process at once with the default
// action, so a user is never stuck.
#pragma once

namespace gt {

// Installs the handler. Call once from main(); tests never call it.
void install_interrupt_handler();

// True once SIGINT arrived (or request_interrupt() was called).
bool interrupted();

// Sets the flag by hand; for tests and for code paths that abort on purpose.
void request_interrupt();
void clear_interrupt();

}  // namespace gt
