-- A fourth role, reviewer (an agent who also decides inquiries). SQLite cannot alter a CHECK
-- constraint, and rebuilding users would drop columns other migrations add to it, so the
-- table's stored definition is widened in place (sqlite.org/lang_altertable.html, "Making Other
-- Kinds Of Table Schema Changes": a looser CHECK needs no change to the stored rows). The empty
-- table made and dropped after it bumps the schema cookie so every connection reads it anew.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, 'CHECK (role IN (''admin'', ''agent'', ''viewer''))',
                          'CHECK (role IN (''admin'', ''reviewer'', ''agent'', ''viewer''))')
 WHERE type = 'table' AND name = 'users';
PRAGMA writable_schema = RESET;
CREATE TABLE schema_bump (x INTEGER) STRICT;
DROP TABLE schema_bump;
