"""The database schema name is checked as a whole string: a trailing newline is refused."""

import pytest

from ncp_registry_cache.adapters.db import create_engine


async def test_schema_with_a_trailing_newline_is_refused():
    engine = create_engine("postgresql+asyncpg://u@127.0.0.1/x", schema="registry")
    await engine.dispose()
    with pytest.raises(ValueError, match="not a plain identifier"):
        create_engine("postgresql+asyncpg://u@127.0.0.1/x", schema="registry\n")
