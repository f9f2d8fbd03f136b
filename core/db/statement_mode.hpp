#pragma once
// Whether named queries are prepared once per connection (the default) or
// sent unprepared every time, process-wide, set once at start. Off is for
// PgBouncer in transaction mode: 1.18 (Debian 12) cannot carry a prepared
// statement from one server connection to the next. Costs a parse and plan
// per query. Setting: DROVER_DB_PREPARED_STATEMENTS.
#include "core/config.hpp"

namespace drover::db {

void use_prepared_statements(bool on);
bool prepared_statements_on();
// From DROVER_DB_PREPARED_STATEMENTS (on or off; anything else: ConfigError).
void configure_statement_mode(const Config& config);

}  // namespace drover::db
