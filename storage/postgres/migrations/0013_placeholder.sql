-- Placeholder keeping the migration numbers without gaps on this branch; replaced by the real 0013 when merged.
SELECT 1;
