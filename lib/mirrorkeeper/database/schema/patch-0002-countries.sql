-- Reference data: the continents, and every country of ISO 3166-1 with the
-- continent it is counted in when a mirror list falls back from a country
-- to its continent.

INSERT INTO continent (code, name) VALUES ('AF', 'Africa');
INSERT INTO continent (code, name) VALUES ('AN', 'Antarctica');
INSERT INTO continent (code, name) VALUES ('AS', 'Asia');
INSERT INTO continent (code, name) VALUES ('EU', 'Europe');
INSERT INTO continent (code, name) VALUES ('NA', 'North America');
INSERT INTO continent (code, name) VALUES ('OC', 'Oceania');
INSERT INTO continent (code, name) VALUES ('SA', 'South America');

INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AD', 'AND', 'Andorra', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AE', 'ARE', 'United Arab Emirates', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AF', 'AFG', 'Afghanistan', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AG', 'ATG', 'Antigua and Barbuda', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AI', 'AIA', 'Anguilla', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AL', 'ALB', 'Albania', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AM', 'ARM', 'Armenia', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AO', 'AGO', 'Angola', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AQ', 'ATA', 'Antarctica', id FROM continent WHERE code = 'AN';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AR', 'ARG', 'Argentina', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AS', 'ASM', 'American Samoa', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AT', 'AUT', 'Austria', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AU', 'AUS', 'Australia', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AW', 'ABW', 'Aruba', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AX', 'ALA', 'Åland Islands', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'AZ', 'AZE', 'Azerbaijan', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BA', 'BIH', 'Bosnia and Herzegovina', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BB', 'BRB', 'Barbados', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BD', 'BGD', 'Bangladesh', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BE', 'BEL', 'Belgium', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BF', 'BFA', 'Burkina Faso', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BG', 'BGR', 'Bulgaria', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BH', 'BHR', 'Bahrain', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BI', 'BDI', 'Burundi', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BJ', 'BEN', 'Benin', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BL', 'BLM', 'Saint Barthélemy', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BM', 'BMU', 'Bermuda', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BN', 'BRN', 'Brunei Darussalam', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BO', 'BOL', 'Bolivia, Plurinational State of', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BQ', 'BES', 'Bonaire, Sint Eustatius and Saba', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BR', 'BRA', 'Brazil', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BS', 'BHS', 'Bahamas', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BT', 'BTN', 'Bhutan', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BV', 'BVT', 'Bouvet Island', id FROM continent WHERE code = 'AN';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BW', 'BWA', 'Botswana', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BY', 'BLR', 'Belarus', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'BZ', 'BLZ', 'Belize', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CA', 'CAN', 'Canada', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CC', 'CCK', 'Cocos (Keeling) Islands', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CD', 'COD', 'Congo, The Democratic Republic of the', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CF', 'CAF', 'Central African Republic', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CG', 'COG', 'Congo', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CH', 'CHE', 'Switzerland', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CI', 'CIV', 'Côte d''Ivoire', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CK', 'COK', 'Cook Islands', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CL', 'CHL', 'Chile', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CM', 'CMR', 'Cameroon', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CN', 'CHN', 'China', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CO', 'COL', 'Colombia', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CR', 'CRI', 'Costa Rica', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CU', 'CUB', 'Cuba', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CV', 'CPV', 'Cabo Verde', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CW', 'CUW', 'Curaçao', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CX', 'CXR', 'Christmas Island', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CY', 'CYP', 'Cyprus', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'CZ', 'CZE', 'Czechia', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'DE', 'DEU', 'Germany', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'DJ', 'DJI', 'Djibouti', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'DK', 'DNK', 'Denmark', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'DM', 'DMA', 'Dominica', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'DO', 'DOM', 'Dominican Republic', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'DZ', 'DZA', 'Algeria', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'EC', 'ECU', 'Ecuador', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'EE', 'EST', 'Estonia', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'EG', 'EGY', 'Egypt', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'EH', 'ESH', 'Western Sahara', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'ER', 'ERI', 'Eritrea', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'ES', 'ESP', 'Spain', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'ET', 'ETH', 'Ethiopia', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'FI', 'FIN', 'Finland', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'FJ', 'FJI', 'Fiji', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'FK', 'FLK', 'Falkland Islands (Malvinas)', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'FM', 'FSM', 'Micronesia, Federated States of', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'FO', 'FRO', 'Faroe Islands', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'FR', 'FRA', 'France', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GA', 'GAB', 'Gabon', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GB', 'GBR', 'United Kingdom', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GD', 'GRD', 'Grenada', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GE', 'GEO', 'Georgia', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GF', 'GUF', 'French Guiana', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GG', 'GGY', 'Guernsey', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GH', 'GHA', 'Ghana', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GI', 'GIB', 'Gibraltar', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GL', 'GRL', 'Greenland', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GM', 'GMB', 'Gambia', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GN', 'GIN', 'Guinea', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GP', 'GLP', 'Guadeloupe', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GQ', 'GNQ', 'Equatorial Guinea', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GR', 'GRC', 'Greece', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GS', 'SGS', 'South Georgia and the South Sandwich Islands', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GT', 'GTM', 'Guatemala', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GU', 'GUM', 'Guam', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GW', 'GNB', 'Guinea-Bissau', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'GY', 'GUY', 'Guyana', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'HK', 'HKG', 'Hong Kong', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'HM', 'HMD', 'Heard Island and McDonald Islands', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'HN', 'HND', 'Honduras', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'HR', 'HRV', 'Croatia', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'HT', 'HTI', 'Haiti', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'HU', 'HUN', 'Hungary', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'ID', 'IDN', 'Indonesia', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'IE', 'IRL', 'Ireland', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'IL', 'ISR', 'Israel', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'IM', 'IMN', 'Isle of Man', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'IN', 'IND', 'India', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'IO', 'IOT', 'British Indian Ocean Territory', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'IQ', 'IRQ', 'Iraq', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'IR', 'IRN', 'Iran, Islamic Republic of', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'IS', 'ISL', 'Iceland', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'IT', 'ITA', 'Italy', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'JE', 'JEY', 'Jersey', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'JM', 'JAM', 'Jamaica', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'JO', 'JOR', 'Jordan', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'JP', 'JPN', 'Japan', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'KE', 'KEN', 'Kenya', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'KG', 'KGZ', 'Kyrgyzstan', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'KH', 'KHM', 'Cambodia', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'KI', 'KIR', 'Kiribati', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'KM', 'COM', 'Comoros', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'KN', 'KNA', 'Saint Kitts and Nevis', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'KP', 'PRK', 'Korea, Democratic People''s Republic of', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'KR', 'KOR', 'Korea, Republic of', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'KW', 'KWT', 'Kuwait', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'KY', 'CYM', 'Cayman Islands', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'KZ', 'KAZ', 'Kazakhstan', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'LA', 'LAO', 'Lao People''s Democratic Republic', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'LB', 'LBN', 'Lebanon', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'LC', 'LCA', 'Saint Lucia', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'LI', 'LIE', 'Liechtenstein', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'LK', 'LKA', 'Sri Lanka', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'LR', 'LBR', 'Liberia', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'LS', 'LSO', 'Lesotho', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'LT', 'LTU', 'Lithuania', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'LU', 'LUX', 'Luxembourg', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'LV', 'LVA', 'Latvia', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'LY', 'LBY', 'Libya', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MA', 'MAR', 'Morocco', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MC', 'MCO', 'Monaco', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MD', 'MDA', 'Moldova, Republic of', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'ME', 'MNE', 'Montenegro', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MF', 'MAF', 'Saint Martin (French part)', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MG', 'MDG', 'Madagascar', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MH', 'MHL', 'Marshall Islands', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MK', 'MKD', 'North Macedonia', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'ML', 'MLI', 'Mali', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MM', 'MMR', 'Myanmar', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MN', 'MNG', 'Mongolia', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MO', 'MAC', 'Macao', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MP', 'MNP', 'Northern Mariana Islands', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MQ', 'MTQ', 'Martinique', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MR', 'MRT', 'Mauritania', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MS', 'MSR', 'Montserrat', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MT', 'MLT', 'Malta', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MU', 'MUS', 'Mauritius', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MV', 'MDV', 'Maldives', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MW', 'MWI', 'Malawi', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MX', 'MEX', 'Mexico', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MY', 'MYS', 'Malaysia', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'MZ', 'MOZ', 'Mozambique', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'NA', 'NAM', 'Namibia', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'NC', 'NCL', 'New Caledonia', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'NE', 'NER', 'Niger', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'NF', 'NFK', 'Norfolk Island', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'NG', 'NGA', 'Nigeria', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'NI', 'NIC', 'Nicaragua', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'NL', 'NLD', 'Netherlands', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'NO', 'NOR', 'Norway', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'NP', 'NPL', 'Nepal', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'NR', 'NRU', 'Nauru', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'NU', 'NIU', 'Niue', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'NZ', 'NZL', 'New Zealand', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'OM', 'OMN', 'Oman', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PA', 'PAN', 'Panama', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PE', 'PER', 'Peru', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PF', 'PYF', 'French Polynesia', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PG', 'PNG', 'Papua New Guinea', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PH', 'PHL', 'Philippines', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PK', 'PAK', 'Pakistan', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PL', 'POL', 'Poland', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PM', 'SPM', 'Saint Pierre and Miquelon', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PN', 'PCN', 'Pitcairn', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PR', 'PRI', 'Puerto Rico', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PS', 'PSE', 'Palestine, State of', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PT', 'PRT', 'Portugal', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PW', 'PLW', 'Palau', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'PY', 'PRY', 'Paraguay', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'QA', 'QAT', 'Qatar', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'RE', 'REU', 'Réunion', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'RO', 'ROU', 'Romania', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'RS', 'SRB', 'Serbia', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'RU', 'RUS', 'Russian Federation', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'RW', 'RWA', 'Rwanda', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SA', 'SAU', 'Saudi Arabia', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SB', 'SLB', 'Solomon Islands', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SC', 'SYC', 'Seychelles', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SD', 'SDN', 'Sudan', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SE', 'SWE', 'Sweden', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SG', 'SGP', 'Singapore', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SH', 'SHN', 'Saint Helena, Ascension and Tristan da Cunha', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SI', 'SVN', 'Slovenia', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SJ', 'SJM', 'Svalbard and Jan Mayen', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SK', 'SVK', 'Slovakia', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SL', 'SLE', 'Sierra Leone', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SM', 'SMR', 'San Marino', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SN', 'SEN', 'Senegal', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SO', 'SOM', 'Somalia', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SR', 'SUR', 'Suriname', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SS', 'SSD', 'South Sudan', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'ST', 'STP', 'Sao Tome and Principe', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SV', 'SLV', 'El Salvador', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SX', 'SXM', 'Sint Maarten (Dutch part)', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SY', 'SYR', 'Syrian Arab Republic', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'SZ', 'SWZ', 'Eswatini', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TC', 'TCA', 'Turks and Caicos Islands', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TD', 'TCD', 'Chad', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TF', 'ATF', 'French Southern Territories', id FROM continent WHERE code = 'AN';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TG', 'TGO', 'Togo', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TH', 'THA', 'Thailand', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TJ', 'TJK', 'Tajikistan', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TK', 'TKL', 'Tokelau', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TL', 'TLS', 'Timor-Leste', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TM', 'TKM', 'Turkmenistan', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TN', 'TUN', 'Tunisia', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TO', 'TON', 'Tonga', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TR', 'TUR', 'Türkiye', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TT', 'TTO', 'Trinidad and Tobago', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TV', 'TUV', 'Tuvalu', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TW', 'TWN', 'Taiwan, Province of China', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'TZ', 'TZA', 'Tanzania, United Republic of', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'UA', 'UKR', 'Ukraine', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'UG', 'UGA', 'Uganda', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'UM', 'UMI', 'United States Minor Outlying Islands', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'US', 'USA', 'United States', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'UY', 'URY', 'Uruguay', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'UZ', 'UZB', 'Uzbekistan', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'VA', 'VAT', 'Holy See (Vatican City State)', id FROM continent WHERE code = 'EU';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'VC', 'VCT', 'Saint Vincent and the Grenadines', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'VE', 'VEN', 'Venezuela, Bolivarian Republic of', id FROM continent WHERE code = 'SA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'VG', 'VGB', 'Virgin Islands, British', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'VI', 'VIR', 'Virgin Islands, U.S.', id FROM continent WHERE code = 'NA';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'VN', 'VNM', 'Viet Nam', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'VU', 'VUT', 'Vanuatu', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'WF', 'WLF', 'Wallis and Futuna', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'WS', 'WSM', 'Samoa', id FROM continent WHERE code = 'OC';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'YE', 'YEM', 'Yemen', id FROM continent WHERE code = 'AS';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'YT', 'MYT', 'Mayotte', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'ZA', 'ZAF', 'South Africa', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'ZM', 'ZMB', 'Zambia', id FROM continent WHERE code = 'AF';
INSERT INTO country (iso3166code2, iso3166code3, name, continent)
    SELECT 'ZW', 'ZWE', 'Zimbabwe', id FROM continent WHERE code = 'AF';
