-- A product setting: the customers linked to a user account may free machines of their keys themselves on
-- /account/ (Cryptolens' AllowActivationManagement).
ALTER TABLE license_products ADD COLUMN allow_activation_management BOOLEAN NOT NULL DEFAULT false;
