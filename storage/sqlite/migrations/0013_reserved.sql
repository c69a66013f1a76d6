-- Reserved: this number belongs to a change developed alongside; this placeholder keeps the numbering
-- without gaps until that change is merged, and is then removed.
SELECT 1;
