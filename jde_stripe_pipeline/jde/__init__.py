"""The JDE source: AIS session, table specs per source profile, Julian dates, typed records."""
